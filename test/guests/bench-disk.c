/*
 * bench-disk: ATA PIO throughput, for `atlas386 bench` (not a PASS/FAIL test).
 *
 * Writes MiB mebibytes (default 32; `mib=N` on the Multiboot command line) to
 * the primary master from LBA 0 with WRITE MULTIPLE, then reads them back
 * with READ MULTIPLE, and checks that what came back hashes to what was
 * written. 256 sectors per command (sector count 0), 16 sectors per DRQ block
 * (SET MULTIPLE MODE 16; WRITE/READ SECTORS, one sector per block, when the
 * drive offers no multiple mode), one `rep outsw` / `rep insw` of 256 words
 * per sector, as Linux's libata PIO path moves them. Polled: nIEN is set and
 * IRQ14 masked; the driver polls the Status register for BSY, then DRQ.
 *
 * Data: 32-bit word k of the disk (byte offset 4k) is pattern(k) below. The
 * hash is FNV-1a-like over 32-bit words: h = (h ^ w) * 0x01000193, from
 * 0x811C9DC5, over every word in disk order (test/bench-guests.test.ts
 * computes the same value). Output, one line:
 *   bench-disk: checksum XXXXXXXX written N read N
 * with N in bytes; exit status 0, or 1 after a `bench-disk: error ...` line.
 */
#include "lib.h"
#include "ata.h"

#define CMD_READ_SECTORS 0x20
#define CMD_WRITE_SECTORS 0x30
#define CMD_READ_MULTIPLE 0xC4
#define CMD_WRITE_MULTIPLE 0xC5
#define CMD_SET_MULTIPLE 0xC6
#define CMD_IDENTIFY 0xEC

#define SECTORS_PER_COMMAND 256u
#define MAX_BLOCK 16u
#define WORDS_PER_SECTOR 128u /* 32-bit words */

static inline u32 pattern(u32 k) {
    u32 x = k * 0x9E3779B1u;
    return x ^ (x >> 15);
}

static inline u32 hash_word(u32 h, u32 w) { return (h ^ w) * 0x01000193u; }

static u32 block_buf[MAX_BLOCK * WORDS_PER_SECTOR];
static u16 ident[256];

static int error(const char *what, u32 lba, u8 st) {
    printf("bench-disk: error: %s at LBA %u (status %02x, error %02x)\n", what, lba, st, inb(ATA_ERR));
    return 1;
}

/* Polls Status until BSY clears; returns it, or 0xFF after a (generous) timeout. */
static u8 wait_not_busy(void) {
    for (u32 n = 0; n < 100000000u; n++) {
        u8 st = inb(ATA_STATUS);
        if (!(st & ST_BSY)) return st;
    }
    return 0xFF;
}

static void issue(u8 cmd, u32 lba, u8 count) {
    outb(ATA_DRIVE, (u8)(0xE0 | ((lba >> 24) & 0x0F)));
    outb(ATA_COUNT, count);
    outb(ATA_LBA0, (u8)lba);
    outb(ATA_LBA1, (u8)(lba >> 8));
    outb(ATA_LBA2, (u8)(lba >> 16));
    outb(ATA_CMD, cmd);
}

int kmain(u32 magic, const void *info) {
    serial_init();
    gdt_init();
    idt_init();
    pic_remap(0xFF, 0xFF);              /* every IRQ masked: this driver polls */
    if (magic != 0x2BADB002) { printf("bench-disk: error: Multiboot magic %x\n", magic); return 1; }
    u32 mib = cmdline_number(info, "mib", 32);
    if (mib < 1 || mib > 1024) { printf("bench-disk: error: mib=%u (1 to 1024)\n", mib); return 1; }
    u32 sectors = mib * 2048u;

    outb(ATA_CTRL, 0x02);               /* nIEN */
    outb(ATA_DRIVE, 0xE0);
    u8 st = wait_not_busy();
    if ((st & (ST_DRDY | ST_ERR | ST_DRQ | ST_DF)) != ST_DRDY) return error("primary master not ready", 0, st);

    issue(CMD_IDENTIFY, 0, 0);
    st = wait_not_busy();
    if ((st & (ST_DRQ | ST_ERR)) != ST_DRQ) return error("IDENTIFY DEVICE failed", 0, st);
    insw(ATA_DATA, ident, 256);
    u32 capacity = ident[60] | ((u32)ident[61] << 16);
    if (capacity < sectors) {
        printf("bench-disk: error: the disk has %u sectors, %u needed\n", capacity, sectors);
        return 1;
    }

    u32 block = (ident[47] & 0xFF) >= MAX_BLOCK ? MAX_BLOCK : 1;
    if (block > 1) {
        issue(CMD_SET_MULTIPLE, 0, (u8)block);
        st = wait_not_busy();
        if (st & (ST_ERR | ST_DRQ)) return error("SET MULTIPLE MODE failed", 0, st);
    }
    u8 write_cmd = block > 1 ? CMD_WRITE_MULTIPLE : CMD_WRITE_SECTORS;
    u8 read_cmd = block > 1 ? CMD_READ_MULTIPLE : CMD_READ_SECTORS;

    /* ---- write ---------------------------------------------------------- */
    u32 written = 0x811C9DC5u, k = 0;
    for (u32 lba = 0; lba < sectors; lba += SECTORS_PER_COMMAND) {
        issue(write_cmd, lba, (u8)SECTORS_PER_COMMAND); /* 256 is sent as 0 */
        for (u32 done = 0; done < SECTORS_PER_COMMAND; done += block) {
            u32 *w = block_buf;
            for (u32 i = 0; i < block * WORDS_PER_SECTOR; i++, k++) {
                u32 v = pattern(k);
                w[i] = v;
                written = hash_word(written, v);
            }
            st = wait_not_busy();
            if ((st & (ST_DRQ | ST_ERR | ST_DF)) != ST_DRQ) return error("write: no DRQ", lba + done, st);
            for (u32 s = 0; s < block; s++) outsw(ATA_DATA, block_buf + s * WORDS_PER_SECTOR, 256);
        }
        st = wait_not_busy();
        if (st & (ST_DRQ | ST_ERR | ST_DF)) return error("write: command did not complete", lba, st);
    }

    /* ---- read back ------------------------------------------------------ */
    u32 read = 0x811C9DC5u;
    for (u32 lba = 0; lba < sectors; lba += SECTORS_PER_COMMAND) {
        issue(read_cmd, lba, (u8)SECTORS_PER_COMMAND);
        for (u32 done = 0; done < SECTORS_PER_COMMAND; done += block) {
            st = wait_not_busy();
            if ((st & (ST_DRQ | ST_ERR | ST_DF)) != ST_DRQ) return error("read: no DRQ", lba + done, st);
            for (u32 s = 0; s < block; s++) insw(ATA_DATA, block_buf + s * WORDS_PER_SECTOR, 256);
            const u32 *w = block_buf;
            for (u32 i = 0; i < block * WORDS_PER_SECTOR; i++) read = hash_word(read, w[i]);
        }
        st = wait_not_busy();
        if (st & (ST_DRQ | ST_ERR | ST_DF)) return error("read: command did not complete", lba, st);
    }

    if (read != written) {
        printf("bench-disk: error: read back checksum %08x, written %08x\n", read, written);
        return 1;
    }
    printf("bench-disk: checksum %08x written %u read %u\n", read, sectors * 512u, sectors * 512u);
    return 0;
}
