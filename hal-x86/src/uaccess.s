/* k43_copy_user(dst = rdi, src = rsi, len = rdx) -> rax: 0 when every byte was copied,
 * 1 when the copy faulted. The only instruction that touches user memory is the
 * rep movsb below; its __ex_table entry sends a page fault there to the fixup, which
 * returns 1 (the #PF handler recorded the address and the cause), as Linux's
 * copy_user_generic with _ASM_EXTABLE does. */
.pushsection .text.k43_uaccess, "ax"
.global k43_copy_user
k43_copy_user:
    mov %rdx, %rcx
.Lk43_copy_insn:
    rep movsb
    xor %eax, %eax
    ret
.Lk43_copy_fixup:
    mov $1, %eax
    ret
.popsection

.pushsection __ex_table, "a"
    .balign 8
    .quad .Lk43_copy_insn, .Lk43_copy_fixup
.popsection
