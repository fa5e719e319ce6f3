# Scheme 1's build parts, read by the Makefile's kernel section: extra compiler flags for the
# kernel, and checks the linked image must pass (each a script run as `SCRIPT kernel.elf`).
SCHEME_CXXFLAGS :=
SCHEME_LINK_CHECKS :=
