# Scheme 3's build parts, read by the Makefile's kernel section: extra compiler flags for the
# kernel, and checks the linked image must pass (each a script run as `SCRIPT kernel.elf`).
# The kernel runs at a different slot in every process, so its image must hold no absolute
# kernel address: GCC must not turn a switch into a table of pointers, and the link is checked.
SCHEME_CXXFLAGS := -fno-tree-switch-conversion
SCHEME_LINK_CHECKS := kernel/scheme/randomized/check_relocs.py
