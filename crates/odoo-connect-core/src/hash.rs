//! The stable hash the crates name stored things with.

/// 64-bit FNV-1a: small, and stable across releases, runs and platforms (unlike `std`'s
/// `DefaultHasher`), so it can name things that are stored (message ids, external ids, change ids
/// too long to keep whole).
///
/// ```
/// assert_eq!(odoo_connect_core::hash::fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
/// assert_eq!(odoo_connect_core::hash::fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
/// ```
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}
