/*
 * disk: ATA PIO on the primary master (ports 0x1F0-0x1F7, 0x3F6, IRQ14) with
 * a 1 MiB test image (2048 sectors) whose sector s, byte i is disk_pattern(s, i):
 * the first four bytes hold s (little endian), the rest (s*31 + i*7 + (i>>8)) & 0xFF.
 * LBAs 100-102 are overwritten with written_pattern(); the host checks the
 * image afterwards.
 */
#include "lib.h"
#include "ata.h"

#define DISK_SECTORS 2048

static u8 disk_pattern(u32 lba, u32 i) {
    return i < 4 ? (u8)(lba >> (8 * i)) : (u8)(lba * 31 + i * 7 + (i >> 8));
}
static u8 written_pattern(u32 lba, u32 i) { return (u8)((lba * 17 + i * 3) ^ 0xA5); }

static int sector_is(const u8 *buf, u32 lba, u8 (*pat)(u32, u32)) {
    for (u32 i = 0; i < 512; i++) if (buf[i] != pat(lba, i)) return 0;
    return 1;
}

static volatile u32 irq14_count, irq14_status;

static void ata_irq(struct regs *r) {
    (void)r;
    irq14_count++;
    irq14_status = inb(ATA_STATUS);  /* reading STATUS acknowledges INTRQ */
    pic_eoi(14);
}

static void delay400(void) { for (int i = 0; i < 4; i++) inb(ATA_ALTSTATUS); }

/* Waits until BSY clears; returns the status (0xFF after a timeout). */
static u8 wait_ready(void) {
    for (u32 n = 0; n < 10000000; n++) {
        u8 st = inb(ATA_ALTSTATUS);
        if (!(st & ST_BSY)) return st;
    }
    return 0xFF;
}

static int wait_irqs(u32 n) {
    sti();
    for (u32 i = 0; i < 50000000 && irq14_count < n; i++) __asm__ volatile("pause");
    cli();
    return irq14_count >= n;
}

static void issue(u8 cmd, u32 lba, u8 count) {
    wait_ready();
    outb(ATA_DRIVE, (u8)(0xE0 | ((lba >> 24) & 0x0F)));
    delay400();
    wait_ready();
    outb(ATA_COUNT, count);
    outb(ATA_LBA0, (u8)lba);
    outb(ATA_LBA1, (u8)(lba >> 8));
    outb(ATA_LBA2, (u8)(lba >> 16));
    outb(ATA_CMD, cmd);
    delay400();
}

static u8 buf[512 * 4];
static u16 ident[256];

int kmain(u32 magic, const void *info) {
    kernel_start("disk", magic, info);
    isr_install(0x2E, ata_irq);
    pic_remap(0xFB, 0xBF);           /* IRQ2 (cascade) and IRQ14 */

    /* ---- the drive is there --------------------------------------------- */
    outb(ATA_CTRL, 0x02);            /* nIEN: no interrupts for now */
    outb(ATA_DRIVE, 0xE0);
    delay400();
    u8 st = wait_ready();
    CHECK(st != 0xFF && (st & (ST_DRDY | ST_ERR | ST_DRQ)) == ST_DRDY, "ATA: primary master present, ready");
    outb(ATA_COUNT, 0x12);
    outb(ATA_LBA0, 0x34);
    outb(ATA_LBA1, 0x56);
    outb(ATA_LBA2, 0x78);
    CHECK(inb(ATA_COUNT) == 0x12 && inb(ATA_LBA0) == 0x34 && inb(ATA_LBA1) == 0x56 && inb(ATA_LBA2) == 0x78,
          "ATA: task file registers read back");

    /* ---- IDENTIFY DEVICE, with IRQ14 ------------------------------------- */
    outb(ATA_CTRL, 0x00);
    irq14_count = 0;
    issue(0xEC, 0, 0);
    int irq = wait_irqs(1);
    st = inb(ATA_ALTSTATUS);
    int drq = (st & (ST_BSY | ST_DRQ | ST_ERR)) == ST_DRQ;
    insw(ATA_DATA, ident, 256);
    u32 sectors = ident[60] | ((u32)ident[61] << 16);
    CHECK(irq && drq, "ATA IDENTIFY DEVICE: IRQ14, then DRQ");
    CHECK(!(ident[0] & 0x8000) && (ident[49] & 0x0200), "ATA IDENTIFY: ATA device supporting LBA");
    if (sectors == DISK_SECTORS) pass("ATA IDENTIFY: words 60-61 give the disk's 2048 sectors");
    else fail("ATA IDENTIFY: %u sectors, expected %u", sectors, DISK_SECTORS);
    CHECK(!(inb(ATA_ALTSTATUS) & ST_DRQ) && irq14_count == 1, "ATA IDENTIFY: DRQ clears after 256 words");

    /* ---- READ SECTORS with one IRQ14 per sector --------------------------- */
    irq14_count = 0;
    issue(0x20, 10, 4);
    int ok = 1;
    for (u32 s = 0; s < 4; s++) {
        if (!wait_irqs(s + 1) || (irq14_status & (ST_BSY | ST_DRQ | ST_ERR)) != ST_DRQ) { ok = 0; break; }
        insw(ATA_DATA, buf + 512 * s, 256);
    }
    st = wait_ready();
    CHECK(ok && irq14_count == 4 && !(st & (ST_DRQ | ST_ERR)), "ATA READ SECTORS (4 at LBA 10): one IRQ14 per sector");
    ok = 1;
    for (u32 s = 0; s < 4; s++) ok &= sector_is(buf + 512 * s, 10 + s, disk_pattern);
    CHECK(ok, "ATA READ SECTORS: the data is the image's (rep insw)");

    /* one sector read word by word, at the last LBA */
    irq14_count = 0;
    issue(0x20, DISK_SECTORS - 1, 1);
    ok = wait_irqs(1);
    for (int i = 0; i < 256; i++) ((u16 *)buf)[i] = inw(ATA_DATA);
    CHECK(ok && sector_is(buf, DISK_SECTORS - 1, disk_pattern), "ATA READ SECTORS: the last sector, with single inw");

    /* ---- WRITE SECTORS, then read back ----------------------------------- */
    for (u32 s = 0; s < 3; s++)
        for (u32 i = 0; i < 512; i++) buf[512 * s + i] = written_pattern(100 + s, i);
    irq14_count = 0;
    issue(0x30, 100, 3);
    ok = 1;
    for (u32 s = 0; s < 3; s++) {
        /* the first sector goes on DRQ without an interrupt; each later one after the IRQ */
        if (s > 0 && !wait_irqs(s)) { ok = 0; break; }
        st = wait_ready();
        if ((st & (ST_DRQ | ST_ERR)) != ST_DRQ) { ok = 0; break; }
        outsw(ATA_DATA, buf + 512 * s, 256);
    }
    ok = ok && wait_irqs(3);
    st = wait_ready();
    CHECK(ok && irq14_count == 3 && !(st & (ST_DRQ | ST_ERR)), "ATA WRITE SECTORS (3 at LBA 100): one IRQ14 per sector");

    outb(ATA_CTRL, 0x02);            /* polling from here: nIEN */
    irq14_count = 0;
    memset(buf, 0, sizeof buf);
    issue(0x20, 99, 5);
    ok = 1;
    for (u32 s = 0; s < 5; s++) {
        st = wait_ready();
        if ((st & (ST_DRQ | ST_ERR)) != ST_DRQ) { ok = 0; break; }
        insw(ATA_DATA, buf, 256);
        u32 lba = 99 + s;
        ok &= sector_is(buf, lba, lba >= 100 && lba <= 102 ? written_pattern : disk_pattern);
    }
    CHECK(ok, "ATA WRITE SECTORS: reading back LBAs 99-103 gives the new data, neighbours unchanged");
    CHECK(irq14_count == 0, "ATA: no IRQ14 with nIEN set");

    /* ---- sector count 0 means 256 ---------------------------------------- */
    issue(0x20, 1000, 0);
    u32 n = 0;
    ok = 1;
    for (;;) {
        st = wait_ready();
        if (st & ST_ERR) { ok = 0; break; }
        if (!(st & ST_DRQ)) break;
        insw(ATA_DATA, buf, 256);
        ok &= sector_is(buf, 1000 + n, disk_pattern);
        if (++n > 300) break;
    }
    if (ok && n == 256) pass("ATA READ SECTORS with count 0: 256 sectors, polled");
    else fail("ATA READ SECTORS with count 0: %u sectors, data %s", n, ok ? "ok" : "bad");

    /* ---- beyond the end of the disk -------------------------------------- */
    issue(0x20, DISK_SECTORS + 100, 1);
    st = wait_ready();
    u8 err = inb(ATA_ERR);
    /* Real drives report IDNF (0x10); QEMU reports ABRT (0x04). */
    CHECK((st & (ST_ERR | ST_DRQ)) == ST_ERR && (err & 0x14), "ATA READ SECTORS beyond the disk: ERR, no data");
    issue(0x20, 10, 1);              /* the drive still works afterwards */
    st = wait_ready();
    ok = (st & (ST_DRQ | ST_ERR)) == ST_DRQ;
    insw(ATA_DATA, buf, 256);
    CHECK(ok && sector_is(buf, 10, disk_pattern), "ATA: the next command after an error succeeds");
    return kernel_finish();
}
