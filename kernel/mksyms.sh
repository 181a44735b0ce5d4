#!/bin/sh
# mksyms.sh [KERNEL.elf] > ksyms.S: the kernel's function symbols, sorted by
# address, as the table panic() names backtrace addresses with (an empty
# table without an argument). The section is padded to a fixed size
# (KSYMS_SIZE) so that the second link, with the real table, lays out every
# other section exactly as the first did; the Makefile checks that it did.
set -e
KSYMS_SIZE=32768
syms=""
if [ -n "$1" ]; then
    syms=$(nm -n "$1" | awk '$2 ~ /^[tT]$/ && $3 !~ /^vector[0-9]+$/ { print $1, $3 }')
fi
echo '    .section .ksyms, "a"'
echo '    .balign 4'
echo '    .globl ksyms_count, ksyms'
echo '.Lstart:'
printf 'ksyms_count: .long %d\n' "$(printf '%s' "$syms" | grep -c . || true)"
echo 'ksyms:'
printf '%s\n' "$syms" | awk 'NF == 2 { printf "    .long 0x%s, .Ls%d\n", $1, NR }'
printf '%s\n' "$syms" | awk 'NF == 2 { printf ".Ls%d: .asciz \"%s\"\n", NR, $2 }'
echo "    .fill $KSYMS_SIZE - (. - .Lstart), 1, 0"
echo '    .section .note.GNU-stack, "", @progbits'
