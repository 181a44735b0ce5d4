/*
 * ATA PIO on the primary master, one sector per command, LBA28.
 *
 * Requests queue up in ide_rw; the head one is on the drive. When the
 * sector is ready the drive raises IRQ14, ide_intr copies it in and starts
 * the next request, and the process that asked (asleep in ide_rw) is woken:
 * other processes run while a read is in flight. Before the first process
 * runs there is nobody to switch to, so ide_rw polls the Status register
 * instead (with nIEN set, so no interrupt is left behind).
 */
#include "buf.h"
#include "defs.h"
#include "mmu.h"
#include "x86.h"

#define ATA_DATA   0x1F0
#define ATA_COUNT  0x1F2
#define ATA_LBA0   0x1F3
#define ATA_LBA1   0x1F4
#define ATA_LBA2   0x1F5
#define ATA_DRIVE  0x1F6
#define ATA_STATUS 0x1F7
#define ATA_CMD    0x1F7
#define ATA_CTRL   0x3F6
#define ST_BSY 0x80
#define ST_DRDY 0x40
#define ST_DF 0x20
#define ST_DRQ 0x08
#define ST_ERR 0x01
#define CMD_READ 0x20

static struct buf *queue;
static int present;

int ide_present(void) { return present; }

/* Wait while busy; returns the status, or -1 for no drive (all ones) or a timeout. */
static int ide_wait(void) {
    for (u32 n = 0; n < 10000000; n++) {
        u8 st = inb(ATA_STATUS);
        if (st == 0xFF) return -1;
        if (!(st & ST_BSY)) return st;
    }
    return -1;
}

void ide_init(void) {
    outb(ATA_DRIVE, 0xE0);              /* master, LBA */
    int st = ide_wait();
    present = st >= 0 && (st & ST_DRDY);
    pic_enable(IRQ_IDE);
}

static void ide_start(struct buf *b, int polled) {
    ide_wait();
    outb(ATA_CTRL, polled ? 0x02 : 0x00);       /* nIEN: interrupts off when polling */
    outb(ATA_COUNT, 1);
    outb(ATA_LBA0, (u8)b->sector);
    outb(ATA_LBA1, (u8)(b->sector >> 8));
    outb(ATA_LBA2, (u8)(b->sector >> 16));
    outb(ATA_DRIVE, 0xE0 | ((b->sector >> 24) & 0x0F));
    outb(ATA_CMD, CMD_READ);
}

/* The drive has finished the head request: take its data (or its error). */
static void ide_finish(struct buf *b, int st) {
    if (st < 0 || (st & (ST_ERR | ST_DF)) || !(st & ST_DRQ)) b->flags |= B_ERROR;
    else { insw(ATA_DATA, b->data, 256); b->flags |= B_VALID; }
}

void ide_intr(void) {
    struct buf *b = queue;
    int st = inb(ATA_STATUS);                   /* reading Status acknowledges the IRQ */
    if (!b) return;
    if (st & ST_BSY) st = ide_wait();
    ide_finish(b, st);
    queue = b->qnext;
    wakeup(b);
    if (queue) ide_start(queue, 0);
}

/* Read b->sector into b (b is B_BUSY, ours). Sets B_VALID or B_ERROR. */
void ide_rw(struct buf *b) {
    b->flags &= ~(B_VALID | B_ERROR);
    if (!present || b->sector >= (1u << 28)) { b->flags |= B_ERROR; return; }
    if (!myproc()) {
        ide_start(b, 1);
        ide_finish(b, ide_wait());
        return;
    }
    b->qnext = NULL;
    struct buf **pp = &queue;
    while (*pp) pp = &(*pp)->qnext;
    *pp = b;
    if (queue == b) ide_start(b, 0);
    while (!(b->flags & (B_VALID | B_ERROR))) sleep(b);
}
