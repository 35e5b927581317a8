/* PVH entry of the k43 image: QEMU's -kernel finds the Xen note below, loads the
 * PT_LOAD segments at their physical addresses and jumps to pvh_start in 32-bit
 * protected mode, paging off, interrupts off, %ebx = physical address of
 * hvm_start_info. This switches to long mode with the first GiB identity-mapped
 * (2 MiB pages, supervisor only) and calls kmain(start_info). */

/* The PVH note: name "Xen", type 18 (XEN_ELFNOTE_PHYS32_ENTRY), desc = entry. */
.pushsection .note.Xen, "a", @note
    .balign 4
    .long 4
    .long 4
    .long 18
    .asciz "Xen"
    .balign 4
    .long pvh_start
    .balign 4
.popsection

.pushsection .text.boot, "ax"
.code32
.global pvh_start
pvh_start:
    cli
    cld
    mov %ebx, %esi                      /* keep start_info; rep stos uses edi */

    /* Zero .bss (the boot page tables and stack live there). */
    mov $__bss_start, %edi
    mov $__bss_end, %ecx
    sub %edi, %ecx
    xor %eax, %eax
    rep stosb

    /* PML4[0] -> PDPT, PDPT[0] -> PD: present + writable, U/S = 0 (supervisor). */
    mov $boot_pdpt, %eax
    or $0x3, %eax
    mov %eax, boot_pml4
    mov $boot_pd, %eax
    or $0x3, %eax
    mov %eax, boot_pdpt

    /* PD[i] = i << 21 | PS | RW | P: 512 x 2 MiB = the first GiB. */
    xor %ecx, %ecx
3:
    mov %ecx, %eax
    shl $21, %eax
    or $0x83, %eax
    mov %eax, boot_pd(,%ecx,8)
    inc %ecx
    cmp $512, %ecx
    jne 3b

    mov $boot_pml4, %eax
    mov %eax, %cr3

    /* CR4: PAE | OSFXSR | OSXMMEXCPT. */
    mov %cr4, %eax
    or $0x620, %eax
    mov %eax, %cr4

    /* EFER.LME. */
    mov $0xC0000080, %ecx
    rdmsr
    or $0x100, %eax
    wrmsr

    /* CR0: clear EM, set PG | MP | PE. */
    mov %cr0, %eax
    and $0xFFFFFFFB, %eax
    or $0x80000003, %eax
    mov %eax, %cr0

    lgdt boot_gdt_ptr
    ljmp $0x08, $start64

.code64
start64:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %ax, %ax
    mov %ax, %fs
    mov %ax, %gs
    mov $boot_stack_top, %rsp
    and $-16, %rsp
    fninit
    mov %esi, %edi                      /* kmain(start_info_pa) */
    call kmain
2:
    cli
    hlt
    jmp 2b
.popsection

.pushsection .rodata.boot, "a"
    .balign 8
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff            /* 0x08: 64-bit code */
    .quad 0x00cf92000000ffff            /* 0x10: data */
boot_gdt_ptr:
    .word boot_gdt_ptr - boot_gdt - 1
    .long boot_gdt
.popsection

.pushsection .bss.boot, "aw", @nobits
    .balign 4096
.global boot_pml4
boot_pml4:
    .skip 4096
.global boot_pdpt
boot_pdpt:
    .skip 4096
.global boot_pd
boot_pd:
    .skip 4096
    .balign 16
boot_stack:
    .skip 0x40000                       /* 256 KiB kernel stack */
.global boot_stack_top
boot_stack_top:
.popsection
