#!/bin/sh
# Fake trap.S generator (harness tests only): common lines plus scheme-specific ones.
echo "# generated trap entry (fake)"
echo "#include \"trap_layout.h\""
echo ".globl trap_entry"
echo "trap_entry:"
echo "    csrrw sp, sscratch, sp"
if grep -q '^CONFIG_SCHEME=1' "$1"; then
  echo "    csrw satp, t0"
  echo "    sfence.vma zero, zero"
fi
echo "    sret"
