/* The primary ATA channel's registers (task file at 0x1F0, control at 0x3F6)
 * and status bits, shared by the disk test and the disk benchmark. */
#ifndef ATA_H
#define ATA_H

#define ATA_DATA 0x1F0
#define ATA_ERR 0x1F1
#define ATA_COUNT 0x1F2
#define ATA_LBA0 0x1F3
#define ATA_LBA1 0x1F4
#define ATA_LBA2 0x1F5
#define ATA_DRIVE 0x1F6
#define ATA_STATUS 0x1F7
#define ATA_CMD 0x1F7
#define ATA_CTRL 0x3F6
#define ATA_ALTSTATUS 0x3F6

#define ST_BSY 0x80
#define ST_DRDY 0x40
#define ST_DF 0x20
#define ST_DRQ 0x08
#define ST_ERR 0x01

#endif
