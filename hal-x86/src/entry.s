/* Entry stubs for the 32 exception vectors. Each pushes a dummy error code where the
 * CPU pushes none, then the vector number, saves every general register and calls
 * k43_exception(&mut ExceptionFrame). The handler may change the saved registers (the
 * page-fault fixup rewrites RIP); they are restored on the way out.
 *
 * Device interrupts (the local APIC timer) have stubs of the same shape that go to
 * k43_interrupt instead: a separate path, so an interrupt that lands inside a user copy
 * never reaches the page-fault fixup.
 *
 * Both paths clear RFLAGS.AC on entry when SMAP is on (Linux's ASM_CLAC): the CPU does
 * not clear it when it delivers an event, so a handler entered from inside a stac window
 * would otherwise run with user access open. iretq restores the saved RFLAGS, AC
 * included, so the interrupted copy resumes with its window still open. */

.pushsection .text.k43_entry, "ax"
.code64

k43_exc_0:
    pushq $0
    pushq $0
    jmp k43_exc_common
k43_exc_1:
    pushq $0
    pushq $1
    jmp k43_exc_common
k43_exc_2:
    pushq $0
    pushq $2
    jmp k43_exc_common
k43_exc_3:
    pushq $0
    pushq $3
    jmp k43_exc_common
k43_exc_4:
    pushq $0
    pushq $4
    jmp k43_exc_common
k43_exc_5:
    pushq $0
    pushq $5
    jmp k43_exc_common
k43_exc_6:
    pushq $0
    pushq $6
    jmp k43_exc_common
k43_exc_7:
    pushq $0
    pushq $7
    jmp k43_exc_common
k43_exc_8:
    pushq $8
    jmp k43_exc_common
k43_exc_9:
    pushq $0
    pushq $9
    jmp k43_exc_common
k43_exc_10:
    pushq $10
    jmp k43_exc_common
k43_exc_11:
    pushq $11
    jmp k43_exc_common
k43_exc_12:
    pushq $12
    jmp k43_exc_common
k43_exc_13:
    pushq $13
    jmp k43_exc_common
k43_exc_14:
    pushq $14
    jmp k43_exc_common
k43_exc_15:
    pushq $0
    pushq $15
    jmp k43_exc_common
k43_exc_16:
    pushq $0
    pushq $16
    jmp k43_exc_common
k43_exc_17:
    pushq $17
    jmp k43_exc_common
k43_exc_18:
    pushq $0
    pushq $18
    jmp k43_exc_common
k43_exc_19:
    pushq $0
    pushq $19
    jmp k43_exc_common
k43_exc_20:
    pushq $0
    pushq $20
    jmp k43_exc_common
k43_exc_21:
    pushq $21
    jmp k43_exc_common
k43_exc_22:
    pushq $0
    pushq $22
    jmp k43_exc_common
k43_exc_23:
    pushq $0
    pushq $23
    jmp k43_exc_common
k43_exc_24:
    pushq $0
    pushq $24
    jmp k43_exc_common
k43_exc_25:
    pushq $0
    pushq $25
    jmp k43_exc_common
k43_exc_26:
    pushq $0
    pushq $26
    jmp k43_exc_common
k43_exc_27:
    pushq $0
    pushq $27
    jmp k43_exc_common
k43_exc_28:
    pushq $0
    pushq $28
    jmp k43_exc_common
k43_exc_29:
    pushq $29
    jmp k43_exc_common
k43_exc_30:
    pushq $30
    jmp k43_exc_common
k43_exc_31:
    pushq $0
    pushq $31
    jmp k43_exc_common

/* clac if SMAP is on (clac is #UD on CPUs without SMAP). Flags are free here: the CPU
 * saved RFLAGS in the frame. */
.macro K43_CLAC
    cmpb $0, K43_SMAP_ON(%rip)
    je 1f
    clac
1:
.endm

.macro K43_SAVE_REGS
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
.endm

.macro K43_RESTORE_REGS_IRET
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    addq $16, %rsp
    iretq
.endm

k43_exc_common:
    K43_CLAC
    K43_SAVE_REGS
    cld
    mov %rsp, %rdi
    /* 22 quadwords are on the stack (CPU frame 5, error, vector, 15 registers) and the
     * CPU aligned RSP to 16 before pushing its frame: the call below sees the ABI's
     * alignment. */
    call k43_exception
    K43_RESTORE_REGS_IRET

/* Local APIC timer, vector 0xef (Linux's LOCAL_TIMER_VECTOR). */
.global k43_irq_timer
k43_irq_timer:
    pushq $0
    pushq $0xef
    jmp k43_irq_common

/* Local APIC spurious vector 0xff: no EOI for a spurious interrupt, nothing to do. */
.global k43_irq_spurious
k43_irq_spurious:
    iretq

k43_irq_common:
    K43_CLAC
    K43_SAVE_REGS
    cld
    mov %rsp, %rdi
    /* Same 22 quadwords as above: the call is 16-byte aligned. */
    call k43_interrupt
    K43_RESTORE_REGS_IRET
.popsection

.pushsection .rodata.k43_entry, "a"
.balign 8
.global k43_exception_stubs
k43_exception_stubs:
    .quad k43_exc_0
    .quad k43_exc_1
    .quad k43_exc_2
    .quad k43_exc_3
    .quad k43_exc_4
    .quad k43_exc_5
    .quad k43_exc_6
    .quad k43_exc_7
    .quad k43_exc_8
    .quad k43_exc_9
    .quad k43_exc_10
    .quad k43_exc_11
    .quad k43_exc_12
    .quad k43_exc_13
    .quad k43_exc_14
    .quad k43_exc_15
    .quad k43_exc_16
    .quad k43_exc_17
    .quad k43_exc_18
    .quad k43_exc_19
    .quad k43_exc_20
    .quad k43_exc_21
    .quad k43_exc_22
    .quad k43_exc_23
    .quad k43_exc_24
    .quad k43_exc_25
    .quad k43_exc_26
    .quad k43_exc_27
    .quad k43_exc_28
    .quad k43_exc_29
    .quad k43_exc_30
    .quad k43_exc_31
.popsection
