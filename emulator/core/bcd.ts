// Decimal arithmetic adjustments: DAA DAS AAA AAS AAM AAD, as the SDM's
// pseudocode defines them. Flags the SDM leaves undefined come out of the
// result (SF ZF PF) or as 0.

import { getCF, getAF, setResultFlags } from "./flags";
import { raise, DE } from "./exceptions";
import { reg8, reg16, setReg8, setReg16, EAX } from "./state";

const AH = 4;

export function daa(): void {
  const oldAl = reg8(EAX);
  const oldCf = getCF();
  let al = oldAl;
  let cf = false;
  let af = false;
  if ((al & 0x0F) > 9 || getAF()) {
    cf = oldCf || al + 6 > 0xFF;
    al = (al + 6) & 0xFF;
    af = true;
  }
  if (oldAl > 0x99 || oldCf) {
    al = (al + 0x60) & 0xFF;
    cf = true;
  } else {
    cf = false;
  }
  setReg8(EAX, al);
  setResultFlags(8, al, cf, false, af);
}

export function das(): void {
  const oldAl = reg8(EAX);
  const oldCf = getCF();
  let al = oldAl;
  let cf = false;
  let af = false;
  if ((al & 0x0F) > 9 || getAF()) {
    cf = oldCf || al < 6;
    al = (al - 6) & 0xFF;
    af = true;
  }
  if (oldAl > 0x99 || oldCf) {
    al = (al - 0x60) & 0xFF;
    cf = true;
  }
  setReg8(EAX, al);
  setResultFlags(8, al, cf, false, af);
}

export function aaa(): void {
  let ax = reg16(EAX);
  const adjust = (ax & 0x0F) > 9 || getAF();
  if (adjust) ax = (ax + 0x106) & 0xFFFF;
  ax &= 0xFF0F;
  setReg16(EAX, ax);
  setResultFlags(8, ax, adjust, false, adjust);
}

export function aas(): void {
  let ax = reg16(EAX);
  const adjust = (ax & 0x0F) > 9 || getAF();
  if (adjust) {
    ax = (ax - 6) & 0xFFFF;
    ax = (ax - 0x100) & 0xFFFF;
  }
  ax &= 0xFF0F;
  setReg16(EAX, ax);
  setResultFlags(8, ax, adjust, false, adjust);
}

export function aam(base: u32): void {
  if (base == 0) raise(DE);
  const al = reg8(EAX);
  setReg8(AH, al / base);
  setReg8(EAX, al % base);
  setResultFlags(8, al % base, false, false);
}

export function aad(base: u32): void {
  const al = (reg8(EAX) + reg8(AH) * base) & 0xFF;
  setReg16(EAX, al);
  setResultFlags(8, al, false, false);
}
