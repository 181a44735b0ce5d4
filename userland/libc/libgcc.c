/* 64-bit division helpers gcc calls on i386 (there is no 32-bit libgcc here). */
typedef unsigned long long u64;
typedef long long s64;

u64 __udivmoddi4(u64 n, u64 d, u64 *rem) {
  u64 q = 0;
  if (rem) *rem = 0;
  if (d == 0) return 1 / (unsigned)d; /* raise #DE as hardware division would */
  if ((d >> 32) == 0 && (n >> 32) == 0) {
    unsigned nn = (unsigned)n, dd = (unsigned)d;
    if (rem) *rem = nn % dd;
    return nn / dd;
  }
  int shift = __builtin_clzll(d) - (n ? __builtin_clzll(n) : 64);
  if (shift < 0) {
    if (rem) *rem = n;
    return 0;
  }
  d <<= shift;
  for (; shift >= 0; shift--, d >>= 1) {
    q <<= 1;
    if (n >= d) {
      n -= d;
      q |= 1;
    }
  }
  if (rem) *rem = n;
  return q;
}

u64 __udivdi3(u64 n, u64 d) { return __udivmoddi4(n, d, 0); }
u64 __umoddi3(u64 n, u64 d) {
  u64 r;
  __udivmoddi4(n, d, &r);
  return r;
}
s64 __divdi3(s64 n, s64 d) {
  int neg = (n < 0) ^ (d < 0);
  u64 q = __udivmoddi4(n < 0 ? -(u64)n : (u64)n, d < 0 ? -(u64)d : (u64)d, 0);
  return neg ? -(s64)q : (s64)q;
}
s64 __moddi3(s64 n, s64 d) {
  u64 r;
  __udivmoddi4(n < 0 ? -(u64)n : (u64)n, d < 0 ? -(u64)d : (u64)d, &r);
  return n < 0 ? -(s64)r : (s64)r;
}
