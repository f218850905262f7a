# SPDX-License-Identifier: GPL-2.0
#
# make style: checkpatch over the kernel sources and the headers; fails on
# any ERROR or WARNING. Ignored, because they do not apply to code kept out
# of the kernel tree:
#   FILE_PATH_CHANGES    (MAINTAINERS updates: patches only)
#   LINUX_VERSION_CODE   (the compat header must test kernel versions)
# and in the compat header (*compat*.h) only, CONSTANT_COMPARISON, which
# takes `LINUX_VERSION_CODE < KERNEL_VERSION(5, 10, 0)` for a constant on
# the left.
# STYLE_FILES and CHECKPATCH_FLAGS may be extended from other mk/*.mk.

.PHONY: style

CHECKPATCH_IGNORE ?= FILE_PATH_CHANGES,LINUX_VERSION_CODE
CHECKPATCH_IGNORE_COMPAT ?= $(CHECKPATCH_IGNORE),CONSTANT_COMPARISON
CHECKPATCH_FLAGS ?= --no-tree --show-types --quiet
STYLE_FILES = $(sort $(filter-out %.mod.c,$(wildcard $(SRC)/kernel/*.[ch] \
	$(SRC)/kernel/*/*.[ch])) $(shell find $(SRC)/include -name '*.h' 2>/dev/null))

style:
	@[ -f "$(CHECKPATCH)" ] || { echo "error: no checkpatch.pl (run: make deps)" >&2; exit 1; }
	@rc=0; for f in $(STYLE_FILES:$(SRC)/%=%); do \
		case $$f in *compat*.h) ign=$(CHECKPATCH_IGNORE_COMPAT) ;; \
			*) ign=$(CHECKPATCH_IGNORE) ;; esac; \
		perl $(CHECKPATCH) $(CHECKPATCH_FLAGS) --ignore $$ign -f $$f || rc=1; \
	done; \
	if [ $$rc = 0 ]; then echo "style: checkpatch clean ($(words $(STYLE_FILES)) files)"; \
	else echo "style: checkpatch found errors or warnings (above)"; fi; exit $$rc

HELP += "style|checkpatch (--no-tree -f) over kernel/ and include/; fails on ERROR/WARNING"
