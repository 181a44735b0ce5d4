import { describe, it, expect } from 'vitest';
import { VirtualClock } from '../../emulator/devices/device.js';

describe('virtual clock', () => {
  it('fires events in time order, ties in scheduling order, at their own time', () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    clock.schedule(300, () => fired.push(`c@${clock.now()}`));
    clock.schedule(100, () => fired.push(`a@${clock.now()}`));
    clock.schedule(100, () => fired.push(`b@${clock.now()}`));
    expect(clock.nextEventAt()).toBe(100);
    clock.advanceTo(250);
    expect(fired).toEqual(['a@100', 'b@100']);
    expect(clock.now()).toBe(250);
    clock.advanceTo(300);
    expect(fired).toEqual(['a@100', 'b@100', 'c@300']);
    expect(clock.nextEventAt()).toBe(Infinity);
  });

  it('lets an event schedule the next one (a periodic timer), and cancels', () => {
    const clock = new VirtualClock();
    const ticks: number[] = [];
    const tick = (): void => { ticks.push(clock.now()); clock.schedule(clock.now() + 10, tick); };
    clock.schedule(10, tick);
    const never = clock.schedule(25, () => ticks.push(-1));
    clock.cancel(never);
    clock.advanceTo(45);
    expect(ticks).toEqual([10, 20, 30, 40]);
  });

  it('never goes back in time', () => {
    const clock = new VirtualClock();
    clock.advanceTo(5);
    expect(() => clock.advanceTo(4)).toThrow(/cannot go back/);
  });
});
