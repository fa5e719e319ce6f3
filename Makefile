# sv39lab build. Out-of-tree builds: `make O=DIR scheme2_defconfig && make O=DIR`.
# Without O= the build directory is ./build.
#
#   make [O=DIR] menuconfig | scheme{1,2,3}_defconfig | olddefconfig | savedefconfig
#   make [O=DIR]            build DIR/kernel.elf
#   make [O=DIR] run        boot it in QEMU (ARGS="init=usertests" sets the kernel command line)
#   make [O=DIR] gdb        attach gdb-multiarch to a QEMU started with `make run GDB=1`
#   make test               install missing packages, build every scheme, run the pytest suite
#   make reproduce          the full benchmark run: results/ (CSV, plots, comparison table)

O ?= build
override O := $(patsubst %/,%,$(O))
PYTHON := /usr/bin/python3
CROSS ?= riscv64-linux-gnu-
CXX := $(CROSS)g++
OBJCOPY := $(CROSS)objcopy
QEMU ?= qemu-system-riscv64
MEM ?= 128M
ARGS ?=
SRC := $(abspath .)
GEN := $(O)/generated

export KCONFIG_CONFIG := $(O)/.config
# Quiet by default: each step prints its target; V=1 prints the full commands.
ifeq ($(V),1)
Q :=
else
Q = @echo "  $(notdir $@)";
endif

.DEFAULT_GOAL := all
.PHONY: all menuconfig olddefconfig setconfig savedefconfig run gdb test reproduce bench deps clean FORCE
.SUFFIXES:
# Keep intermediate objects (user .o files) so that a second make does nothing.
.SECONDARY:

# ---------------------------------------------------------------- configuration
%_defconfig: configs/%_defconfig
	@mkdir -p $(O)
	$(PYTHON) -m defconfig --kconfig Kconfig $<

menuconfig: | $(O)/.config
	$(PYTHON) -m menuconfig Kconfig

olddefconfig:
	@mkdir -p $(O)
	$(PYTHON) -m olddefconfig Kconfig

# Change single options non-interactively: make O=DIR setconfig SET="ASID=n TIMER_HZ=250"
setconfig: | $(O)/.config
	$(PYTHON) -m setconfig --kconfig Kconfig $(SET)

savedefconfig: $(O)/.config
	$(PYTHON) -m savedefconfig --kconfig Kconfig --out $(O)/defconfig
	@echo "minimal configuration written to $(O)/defconfig"

$(O)/.config:
	@mkdir -p $(O)
	@echo "$(O)/.config missing: starting from configs/scheme2_defconfig"
	$(PYTHON) -m defconfig --kconfig Kconfig configs/scheme2_defconfig

# Only the goals that build need the configuration read in.
CONFIG_GOALS := $(filter-out %_defconfig menuconfig olddefconfig setconfig savedefconfig test reproduce bench deps clean tlbmodel,$(or $(MAKECMDGOALS),all))
ifneq ($(CONFIG_GOALS),)
-include $(O)/.config
endif

# ---------------------------------------------------------------- flags
# The kernel is integer-only (lp64: it never touches an FP register outside kernel/arch/fp.S);
# user programs are lp64d, with their FP state saved and restored per process by the kernel.
KERNEL_ARCH := -march=rv64imac_zicsr_zifencei -mabi=lp64
USER_ARCH := -march=rv64imafdc_zicsr_zifencei -mabi=lp64d
COMMON_FLAGS := -mcmodel=medany \
  -ffreestanding -nostdlib -fno-pie -fno-exceptions -fno-rtti -fno-threadsafe-statics \
  -fno-use-cxa-atexit -fno-stack-protector -fno-asynchronous-unwind-tables \
  -Wall -Wextra -Werror=return-type -O2 -g -MMD -MP
SCHEME_NAME := $(if $(CONFIG_SCHEME_SEPARATE),separate,$(if $(CONFIG_SCHEME_RANDOMIZED),randomized,shared))
# -fno-tree-switch-conversion: no tables of pointers (absolute addresses; see scripts/check_relocs.py).
KERNEL_CXXFLAGS := -std=c++20 $(KERNEL_ARCH) $(COMMON_FLAGS) -fno-omit-frame-pointer -mno-relax -fno-tree-switch-conversion \
  -I$(SRC)/kernel -I$(SRC)/include -I$(GEN) -DSCHEME_HEADER='"scheme/$(SCHEME_NAME).hpp"'
KERNEL_LDFLAGS := -nostdlib -static -no-pie -Wl,--build-id=none -Wl,--emit-relocs \
  -Wl,-T,$(GEN)/kernel.ld -Wl,--no-relax
USER_CXXFLAGS := -std=c++20 $(USER_ARCH) $(COMMON_FLAGS) -I$(SRC)/user/lib -I$(SRC)/include
USER_LDFLAGS := -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-T,$(SRC)/user/lib/user.ld

# ---------------------------------------------------------------- generated sources
# Objects depend on the compiler flags too: a changed flag rebuilds everything.
$(GEN)/flags.txt: FORCE
	@mkdir -p $(GEN)
	@echo '$(KERNEL_CXXFLAGS) $(USER_CXXFLAGS)' | cmp -s - $@ || echo '$(KERNEL_CXXFLAGS) $(USER_CXXFLAGS)' > $@

$(GEN)/config.hpp: $(O)/.config scripts/genconfig.py Kconfig
	@mkdir -p $(GEN)
	$(PYTHON) scripts/genconfig.py Kconfig $(O)/.config $@
	@touch $@

$(GEN)/trap.S $(GEN)/trap_layout.h &: $(O)/.config kernel/scheme/trapgen.py
	@mkdir -p $(GEN)
	$(Q)$(PYTHON) kernel/scheme/trapgen.py $(O)/.config $(GEN)

$(GEN)/kernel.ld: kernel/kernel.ld.in $(GEN)/config.hpp
	$(CXX) -E -P -x c -I$(GEN) -I$(SRC)/kernel $< -o $@

# ---------------------------------------------------------------- user programs
USER_LIB_SRCS := $(wildcard user/lib/*.cpp user/lib/*.S)
USER_LIB_OBJS := $(patsubst %,$(O)/%.o,$(USER_LIB_SRCS))
USER_PROG_SRCS := $(wildcard user/*.cpp user/bench/*.cpp)
USER_PROGS := $(patsubst %.cpp,$(O)/%.elf,$(USER_PROG_SRCS))

$(O)/user/%.cpp.o: user/%.cpp $(GEN)/flags.txt
	@mkdir -p $(dir $@)
	$(Q)$(CXX) $(USER_CXXFLAGS) -c $< -o $@
$(O)/user/%.S.o: user/%.S $(GEN)/flags.txt
	@mkdir -p $(dir $@)
	$(Q)$(CXX) $(USER_CXXFLAGS) -c $< -o $@
$(O)/user/%.elf: $(O)/user/%.cpp.o $(USER_LIB_OBJS) user/lib/user.ld
	$(Q)$(CXX) $(USER_CXXFLAGS) $(USER_LDFLAGS) $< $(USER_LIB_OBJS) -lgcc -o $@

$(GEN)/programs.S: $(USER_PROGS) scripts/embed_programs.py
	@mkdir -p $(GEN)
	$(Q)$(PYTHON) scripts/embed_programs.py $@ $(USER_PROGS)
# programs.S .incbin's the programs: its object is stale whenever one of them changes.
$(O)/generated/programs.S.o: $(USER_PROGS)

# ---------------------------------------------------------------- kernel
SCHEME_SRC := kernel/scheme/$(SCHEME_NAME).cpp
KERNEL_SRCS := $(filter-out kernel/scheme/%,$(shell find kernel -name '*.cpp' -o -name '*.S' | sort)) $(SCHEME_SRC)
KERNEL_OBJS := $(patsubst %,$(O)/%.o,$(KERNEL_SRCS)) $(O)/generated/trap.S.o $(O)/generated/programs.S.o

$(O)/kernel/%.cpp.o: kernel/%.cpp $(GEN)/config.hpp $(GEN)/trap_layout.h $(GEN)/flags.txt
	@mkdir -p $(dir $@)
	$(Q)$(CXX) $(KERNEL_CXXFLAGS) -c $< -o $@
$(O)/kernel/%.S.o: kernel/%.S $(GEN)/config.hpp $(GEN)/trap_layout.h $(GEN)/flags.txt
	@mkdir -p $(dir $@)
	$(Q)$(CXX) $(KERNEL_CXXFLAGS) -c $< -o $@
$(O)/generated/%.S.o: $(GEN)/%.S $(GEN)/config.hpp $(GEN)/flags.txt
	$(Q)$(CXX) $(KERNEL_CXXFLAGS) -c $< -o $@

$(O)/kernel.elf: $(KERNEL_OBJS) $(GEN)/kernel.ld scripts/check_relocs.py
	$(Q)$(CXX) $(KERNEL_CXXFLAGS) $(KERNEL_LDFLAGS) $(KERNEL_OBJS) -lgcc -o $@.tmp
	$(if $(CONFIG_SCHEME_RANDOMIZED),$(PYTHON) scripts/check_relocs.py $@.tmp)
	@mv $@.tmp $@
	@echo "built $@ (scheme $(CONFIG_SCHEME))"

all: $(O)/kernel.elf

-include $(shell find $(O) -name '*.d' 2>/dev/null)

# ---------------------------------------------------------------- running
QEMU_FLAGS := -machine virt -nographic -bios default -m $(MEM) -kernel $(O)/kernel.elf
run: $(O)/kernel.elf
	$(QEMU) $(QEMU_FLAGS) $(if $(ARGS),-append "$(ARGS)") $(if $(GDB),-s -S)

gdb: $(O)/kernel.elf
	$(PYTHON) scripts/gdbinit.py $(O) > $(O)/gdbinit
	gdb-multiarch -x $(O)/gdbinit

# ---------------------------------------------------------------- the TLB model (host plugin)
# build/tlbmodel/libtlbmodel.so; the QEMU plugin header is fetched into build/tlbmodel/include.
.PHONY: tlbmodel
tlbmodel: deps
	$(MAKE) -C tlbmodel O=build/tlbmodel

# ---------------------------------------------------------------- tests and results
deps:
	bash scripts/install-deps.sh

test: deps
	$(PYTHON) -m pytest -q -n 2 harness tlbmodel

bench: deps
	$(PYTHON) -m harness bench

reproduce: deps
	$(PYTHON) -m harness reproduce

clean:
	rm -rf $(O)
