# A stand-in for tlbmodel/Makefile used only by the harness's own tests (conftest copies it to
# the fake repository's tlbmodel/Makefile): "builds" a placeholder libtlbmodel.so that the fake
# QEMU accepts as a -plugin. A relative O is taken from the repository top, as in the real one.
TOP := $(abspath $(CURDIR)/..)
O ?= build/tlbmodel
override O := $(patsubst %/,%,$(if $(filter /%,$(O)),$(O),$(TOP)/$(O)))
.PHONY: all
all:
	mkdir -p $(O)
	echo "fake TLB-model plugin" > $(O)/libtlbmodel.so
