# Included by the Makefiles that build guest code (kernel/, userland/): one
# clear line, instead of a compiler error per file, when $(CC) cannot build
# 32-bit x86 code with $(ARCH).
ifneq ($(MAKECMDGOALS),clean)
ifneq ($(shell echo 'int x;' | $(CC) $(ARCH) -ffreestanding -x c -c -o /dev/null - 2>/dev/null && echo ok),ok)
$(error $(CC) cannot build i386 code ($(CC) $(ARCH) failed): install gcc and binutils with 32-bit x86 support (Debian: gcc-multilib))
endif
endif
