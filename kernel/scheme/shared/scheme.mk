# Scheme 2's build parts, read by the Makefile's kernel section: extra compiler flags for the
# kernel, and checks the linked image must pass (each a script run as `SCRIPT kernel.elf`).
# With KASLR_BOOT the kernel runs at a slot drawn at boot: scheme 3's rules apply (see
# kernel/scheme/randomized/scheme.mk).
SCHEME_CXXFLAGS := $(if $(CONFIG_KASLR_BOOT),-fno-tree-switch-conversion)
SCHEME_LINK_CHECKS := $(if $(CONFIG_KASLR_BOOT),kernel/scheme/randomized/check_relocs.py)
