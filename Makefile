# sv39lab build. Out-of-tree builds: `make O=DIR scheme2_defconfig && make O=DIR`.
# Without O= the build directory is ./build. `make help` lists the targets.

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

# O= must be a directory of its own: never the source tree, a directory above it, or /.
O_ABS := $(abspath $(O))
ifeq ($(filter-out /,$(O_ABS)),)
$(error O=/ (or an empty O=) is the root directory; choose a build directory such as O=build)
endif
ifeq ($(O_ABS),$(SRC))
$(error O=$(O) is the source tree itself; choose a build directory such as O=build)
endif
ifneq ($(filter $(O_ABS)/%,$(SRC)),)
$(error O=$(O) contains the source tree; choose a build directory such as O=build)
endif

export KCONFIG_CONFIG := $(O)/.config
# Quiet by default: each step prints what it does and to which file (`  CXX     kernel/main.cpp`);
# V=1 prints the full commands instead.
ifeq ($(V),1)
Q :=
say :=
else
Q := @
say = @printf '  %-7s %s\n' '$(1)' '$(2)';
endif

.DEFAULT_GOAL := all
.PHONY: all help menuconfig olddefconfig setconfig savedefconfig randconfig run gdb fuzz test \
  reproduce bench deps clean mrproper distclean benchdocs
.SUFFIXES:
# Keep intermediate objects (user .o files) so that a second make does nothing.
.SECONDARY:

help:
	@echo 'Configuration (DIR is O=DIR, default build):'
	@echo '  scheme1_defconfig scheme2_defconfig scheme3_defconfig'
	@echo '                    start DIR/.config from configs/<name>'
	@echo '  menuconfig        change options interactively'
	@echo '  olddefconfig      update DIR/.config, new options at their defaults'
	@echo '  setconfig SET="ASID=n TIMER_HZ=250"   change options non-interactively'
	@echo '                    (options with a prompt only: the scheme is chosen by its defconfig)'
	@echo '  savedefconfig     write the minimal configuration to DIR/defconfig'
	@echo '  randconfig [SEED=N]  a random configuration (SEED defaults to the date; printed)'
	@echo 'Building and running:'
	@echo '  all (default)     DIR/kernel.elf (from configs/scheme2_defconfig if no .config)'
	@echo '  run [ARGS="init=usertests"] [GDB=1]   boot it in QEMU'
	@echo '  gdb               attach gdb-multiarch to a QEMU started with `make run GDB=1`'
	@echo '  fuzz [FUZZ_CALLS=1000000] [SEED=1]    boot init=fuzz SEED FUZZ_CALLS (exit status = its)'
	@echo '  fuzz FUZZ_THREADS=4 SMP=4             the same with 4 threads per batch on 4 harts'
	@echo '  tlbmodel          the TLB-model QEMU plugin (build/tlbmodel)'
	@echo 'Cleaning:'
	@echo '  clean             remove objects and generated files, keep DIR/.config'
	@echo '  mrproper          clean, and remove DIR/.config: without O=, the default build only'
	@echo '                    (never build/variants, build/results, build/sweeps or other O= dirs);'
	@echo '                    with O=DIR, everything in DIR'
	@echo '  distclean         remove all of build/ (every O= under it, the harness kernels,'
	@echo '                    results and sweep points), listing what it removes'
	@echo 'Tests and results:'
	@echo '  test              install missing packages, build every scheme, run the pytest suite'
	@echo '  bench             measurements of every variant into build/results'
	@echo '  benchdocs         docs/userspace.md'"'"'s benchmark table, from the //! declarations'
	@echo '  reproduce         the full benchmark run; rewrites the tracked results/ and'
	@echo '                    docs/results.md (on success only; restore the committed ones'
	@echo '                    with `git checkout results/ docs/results.md`)'
	@echo 'Options: O=DIR  V=1 (full commands)  QEMU=  MEM=128M  SMP=1 (harts for run)'

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

# make [O=DIR] randconfig [SEED=N]: SEED defaults to one derived from the date (printed).
RANDCONFIG_SEED := $(or $(SEED),$(shell date +%Y%m%d))
randconfig:
	@mkdir -p $(O)
	@echo "randconfig: SEED=$(RANDCONFIG_SEED)"
	$(PYTHON) scripts/randconfig.py --kconfig Kconfig --seed $(RANDCONFIG_SEED) --out $(KCONFIG_CONFIG)

$(O)/.config:
	@mkdir -p $(O)
	@echo "$(O)/.config missing: starting from configs/scheme2_defconfig"
	$(PYTHON) -m defconfig --kconfig Kconfig configs/scheme2_defconfig

# Only the goals that build read the configuration (and may create it): an unknown goal fails
# with make's "No rule" and no side effect.
BUILD_GOALS := $(filter all run gdb fuzz $(O)/%,$(or $(MAKECMDGOALS),all))
ifneq ($(BUILD_GOALS),)
-include $(O)/.config
endif

# ---------------------------------------------------------------- flags
# The kernel is integer-only (lp64: it never touches an FP register outside kernel/arch/fp.cpp);
# user programs are lp64d, with their FP state saved and restored per process by the kernel.
KERNEL_ARCH := -march=rv64imac_zicsr_zifencei -mabi=lp64
USER_ARCH := -march=rv64imafdc_zicsr_zifencei -mabi=lp64d
COMMON_FLAGS := -mcmodel=medany \
  -ffreestanding -nostdlib -fno-pie -fno-exceptions -fno-rtti -fno-threadsafe-statics \
  -fno-use-cxa-atexit -fno-stack-protector -fno-asynchronous-unwind-tables \
  -Wall -Wextra -Werror=return-type -O2 -g -MMD -MP
# One folder per scheme: kernel/scheme/<name>/ holds its scheme.cpp, slide.hpp, state.hpp,
# trapgen.py and scheme.mk (its extra compiler flags and link checks).
SCHEME_NAME := $(if $(CONFIG_SCHEME_SEPARATE),separate,$(if $(CONFIG_SCHEME_RANDOMIZED),randomized,shared))
SCHEME_DIR := kernel/scheme/$(SCHEME_NAME)
ifneq ($(BUILD_GOALS),)
include $(SCHEME_DIR)/scheme.mk
endif
KERNEL_CXXFLAGS := -std=c++20 $(KERNEL_ARCH) $(COMMON_FLAGS) -Werror=unused-result -fno-omit-frame-pointer -mno-relax $(SCHEME_CXXFLAGS) \
  -I$(SRC)/kernel -I$(SRC)/include -I$(GEN) \
  -DSCHEME_SLIDE_HEADER='"$(SCHEME_DIR:kernel/%=%)/slide.hpp"' -DSCHEME_STATE_HEADER='"$(SCHEME_DIR:kernel/%=%)/state.hpp"'
KERNEL_LDFLAGS := -nostdlib -static -no-pie -Wl,--build-id=none -Wl,--emit-relocs \
  -Wl,-T,$(GEN)/kernel.ld -Wl,--no-relax
USER_CXXFLAGS := -std=c++20 $(USER_ARCH) $(COMMON_FLAGS) -I$(SRC)/user/lib -I$(SRC)/include
USER_LDFLAGS := -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-T,$(SRC)/user/lib/user.ld

# ---------------------------------------------------------------- generated sources
# Objects depend on the compiler flags too: a changed flag rebuilds everything. flags.txt is
# rewritten (at parse time) only when the flags change.
ifneq ($(BUILD_GOALS),)
ALL_FLAGS := $(KERNEL_CXXFLAGS) $(USER_CXXFLAGS)
$(shell mkdir -p $(GEN) && (echo '$(ALL_FLAGS)' | cmp -s - $(GEN)/flags.txt || echo '$(ALL_FLAGS)' > $(GEN)/flags.txt))
endif

# genconfig writes generated/config.hpp and generated/config/<option>, each only when its
# content changes; the stamp records that they are up to date with .config. Objects depend on
# the per-option files they use (scripts/fixdep.py), not on config.hpp.
$(GEN)/config.stamp: $(O)/.config scripts/genconfig.py Kconfig
	@mkdir -p $(GEN)
	$(call say,GEN,$(GEN)/config.hpp)$(PYTHON) scripts/genconfig.py Kconfig $(O)/.config $(GEN)/config.hpp
	@touch $@
$(GEN)/config.hpp: $(GEN)/config.stamp ;
$(GEN)/config/%: $(GEN)/config.stamp ;

# The scheme's trapgen.py (over kernel/scheme/trapgen_common.py) rewrites trap.S, trap_layout.h
# and trap_checks.hpp only when they change; the stamp keeps a no-op make from running it again.
$(GEN)/trap.stamp: $(O)/.config kernel/scheme/trapgen_common.py $(wildcard kernel/scheme/*/trapgen.py)
	@mkdir -p $(GEN)
	$(call say,GEN,$(GEN)/trap.S)$(PYTHON) $(SCHEME_DIR)/trapgen.py $(O)/.config $(GEN)
	@touch $@
$(GEN)/trap.S $(GEN)/trap_layout.h $(GEN)/trap_checks.hpp: $(GEN)/trap.stamp ;

# Compile, then turn the compiler's dependency file into per-option dependencies.
fixdep = $(PYTHON) $(SRC)/scripts/fixdep.py $(@:.o=.d) $(GEN)

$(GEN)/kernel.ld: kernel/kernel.ld.in | $(GEN)/config.stamp
	$(call say,CPP,$@)$(CXX) -E -P -x c -MMD -MT $@ -MF $(GEN)/kernel.d -I$(GEN) -I$(SRC)/kernel $< -o $@ \
	  && $(PYTHON) $(SRC)/scripts/fixdep.py $(GEN)/kernel.d $(GEN)

# ---------------------------------------------------------------- user programs
USER_LIB_SRCS := $(wildcard user/lib/*.cpp user/lib/*.S)
USER_LIB_OBJS := $(patsubst %,$(O)/%.o,$(USER_LIB_SRCS))
USER_PROG_SRCS := $(wildcard user/*.cpp user/bench/*.cpp)
USER_PROGS := $(patsubst %.cpp,$(O)/%.elf,$(USER_PROG_SRCS))

$(O)/user/%.cpp.o: user/%.cpp $(GEN)/flags.txt
	@mkdir -p $(dir $@)
	$(call say,CXX,$<)$(CXX) $(USER_CXXFLAGS) -c $< -o $@
$(O)/user/%.S.o: user/%.S $(GEN)/flags.txt
	@mkdir -p $(dir $@)
	$(call say,AS,$<)$(CXX) $(USER_CXXFLAGS) -c $< -o $@
$(O)/user/%.elf: $(O)/user/%.cpp.o $(USER_LIB_OBJS) user/lib/user.ld
	$(call say,LD,$@)$(CXX) $(USER_CXXFLAGS) $(USER_LDFLAGS) $< $(USER_LIB_OBJS) -lgcc -o $@

# A multi-file program is a folder user/NAME/ (or user/bench/NAME/) holding main.cpp: the
# program NAME, linked from every .cpp and .S in that folder.
USER_DIR_PROGS := $(patsubst %/main.cpp,%,$(wildcard user/*/main.cpp user/bench/*/main.cpp))
define user_dir_prog
$(O)/$(1).elf: $(patsubst %,$(O)/%.o,$(sort $(wildcard $(1)/*.cpp $(1)/*.S))) $(USER_LIB_OBJS) user/lib/user.ld
	$$(call say,LD,$$@)$$(CXX) $$(USER_CXXFLAGS) $$(USER_LDFLAGS) $$(filter %.o,$$^) -lgcc -o $$@
endef
$(foreach p,$(USER_DIR_PROGS),$(eval $(call user_dir_prog,$(p))))
USER_PROGS += $(patsubst %,$(O)/%.elf,$(USER_DIR_PROGS))

$(GEN)/programs.S: $(USER_PROGS) scripts/embed_programs.py
	@mkdir -p $(GEN)
	$(call say,GEN,$@)$(PYTHON) scripts/embed_programs.py $@ $(USER_PROGS)
# programs.S .incbin's the programs: its object is stale whenever one of them changes.
$(O)/generated/programs.S.o: $(USER_PROGS)

# ---------------------------------------------------------------- kernel
SCHEME_SRC := $(wildcard $(SCHEME_DIR)/*.cpp)
KERNEL_SRCS := $(filter-out kernel/scheme/%,$(shell find kernel -name '*.cpp' -o -name '*.S' 2>/dev/null | sort)) $(SCHEME_SRC)
KERNEL_OBJS := $(patsubst %,$(O)/%.o,$(KERNEL_SRCS)) $(O)/generated/trap.S.o $(O)/generated/programs.S.o

# Generated headers must exist before the first compile (order-only); the dependency files
# then name exactly the generated headers and per-option files each object uses.
GEN_READY := $(GEN)/config.stamp $(GEN)/trap.stamp
$(O)/kernel/%.cpp.o: kernel/%.cpp $(GEN)/flags.txt | $(GEN_READY)
	@mkdir -p $(dir $@)
	$(call say,CXX,$<)$(CXX) $(KERNEL_CXXFLAGS) -c $< -o $@ && $(fixdep)
$(O)/kernel/%.S.o: kernel/%.S $(GEN)/flags.txt | $(GEN_READY)
	@mkdir -p $(dir $@)
	$(call say,AS,$<)$(CXX) $(KERNEL_CXXFLAGS) -c $< -o $@ && $(fixdep)
$(O)/generated/%.S.o: $(GEN)/%.S $(GEN)/flags.txt | $(GEN_READY)
	$(call say,AS,$<)$(CXX) $(KERNEL_CXXFLAGS) -c $< -o $@ && $(fixdep)

$(O)/kernel.elf: $(KERNEL_OBJS) $(GEN)/kernel.ld $(SCHEME_LINK_CHECKS)
	$(call say,LD,$@)$(CXX) $(KERNEL_CXXFLAGS) $(KERNEL_LDFLAGS) $(KERNEL_OBJS) -lgcc -o $@.tmp
	$(if $(SCHEME_LINK_CHECKS),$(call say,CHECK,$@)$(foreach check,$(SCHEME_LINK_CHECKS),$(PYTHON) $(check) $@.tmp &&) true)
	@mv $@.tmp $@
	@echo "built $@ (scheme $(CONFIG_SCHEME))"

all: $(O)/kernel.elf

ifneq ($(BUILD_GOALS),)
-include $(shell find $(O) -name '*.d' 2>/dev/null)
endif

# ---------------------------------------------------------------- running
SMP ?= 1
QEMU_FLAGS := -machine virt -nographic -bios default -m $(MEM) -smp $(SMP) -kernel $(O)/kernel.elf
run: $(O)/kernel.elf
	$(QEMU) $(QEMU_FLAGS) $(if $(ARGS),-append "$(ARGS)") $(if $(GDB),-s -S)

gdb: $(O)/kernel.elf
	$(PYTHON) scripts/gdbinit.py $(O) > $(O)/gdbinit
	gdb-multiarch -x $(O)/gdbinit

# make [O=DIR] fuzz [FUZZ_CALLS=1000000] [SEED=1] [FUZZ_THREADS=N SMP=N]: QEMU's exit status is
# the fuzzer's; FUZZ_THREADS runs `fuzz --threads N` (N threads per batch, one per hart).
FUZZ_CALLS ?= 1000000
FUZZ_SEED := $(or $(SEED),1)
fuzz: $(O)/kernel.elf
	$(QEMU) $(QEMU_FLAGS) -append "init=fuzz $(if $(FUZZ_THREADS),--threads $(FUZZ_THREADS) )$(FUZZ_SEED) $(FUZZ_CALLS)"

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

benchdocs:
	$(PYTHON) -m harness.benchspec --write-docs

# clean keeps the configuration (.config, defconfig) and what other tools keep in O (for
# O=build: build/variants, build/tlbmodel, build/results, build/sweeps, other O= directories).
clean:
	rm -rf $(O)/kernel $(O)/user $(O)/generated $(O)/kernel.elf $(O)/kernel.elf.tmp $(O)/gdbinit

# mrproper: the default build (O=build) holds the harness's and other builds' directories too,
# so without O= only the default build's own files go; an O=DIR of its own is emptied.
DEFAULT_O := $(SRC)/build
mrproper: clean
ifeq ($(O_ABS),$(DEFAULT_O))
	rm -f $(O)/.config $(O)/.config.old $(O)/defconfig
	@echo "mrproper: removed the default build ($(O)); kept $(O)/variants, $(O)/results," \
	  "$(O)/sweeps and other directories under $(O) (make distclean removes them)"
else
	rm -rf $(O_ABS)/* $(O_ABS)/.[!.]* $(O_ABS)/..?*
endif

# distclean: everything under build/ (not the tracked results/), each entry named first.
distclean:
	@if [ -d $(SRC)/build ]; then \
	  for p in $(SRC)/build/* $(SRC)/build/.[!.]*; do [ -e "$$p" ] || [ -L "$$p" ] || continue; \
	    printf 'distclean: removing build/%s (%s)\n' "$${p##*/}" "$$(du -sh "$$p" | cut -f1)"; \
	  done; rm -rf $(SRC)/build; \
	else echo "distclean: no build/ directory: nothing to remove"; fi
