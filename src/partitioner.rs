//! librdkafka's partitioners, bit for bit, so keyed messages land where php-rdkafka put them.
//!
//! | name | keyed | no key (NULL) |
//! |---|---|---|
//! | `consistent_random` (default) | CRC32(key) % n | random (sticky), also for an empty key |
//! | `consistent` | CRC32(key) % n | CRC32("") = 0 → partition 0 |
//! | `random` | random | random |
//! | `murmur2` | (murmur2(key) & 0x7fffffff) % n (Java's default) | murmur2 of empty |
//! | `murmur2_random` | as murmur2 | random |
//! | `fnv1a` | abs(fnv1a(key) as i32 % n) (Sarama) | fnv1a of empty |
//! | `fnv1a_random` | as fnv1a | random |

use rand::Rng;

/// A partitioner (`partitioner` topic property, or php's `RD_KAFKA_MSG_PARTITIONER_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Partitioner {
    /// Uniform random.
    Random,
    /// CRC32 of the key; NULL key → partition 0.
    Consistent,
    /// CRC32 of the key; empty or NULL key → random.
    #[default]
    ConsistentRandom,
    /// Java-compatible murmur2 of the key.
    Murmur2,
    /// murmur2, NULL key → random.
    Murmur2Random,
    /// FNV-1a (Sarama compatible).
    Fnv1a,
    /// FNV-1a, NULL key → random.
    Fnv1aRandom,
}

impl Partitioner {
    /// Parses the `partitioner` property value.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "random" => Self::Random,
            "consistent" => Self::Consistent,
            "consistent_random" => Self::ConsistentRandom,
            "murmur2" => Self::Murmur2,
            "murmur2_random" => Self::Murmur2Random,
            "fnv1a" => Self::Fnv1a,
            "fnv1a_random" => Self::Fnv1aRandom,
            _ => return None,
        })
    }

    /// The property value naming this partitioner.
    pub fn name(self) -> &'static str {
        match self {
            Self::Random => "random",
            Self::Consistent => "consistent",
            Self::ConsistentRandom => "consistent_random",
            Self::Murmur2 => "murmur2",
            Self::Murmur2Random => "murmur2_random",
            Self::Fnv1a => "fnv1a",
            Self::Fnv1aRandom => "fnv1a_random",
        }
    }

    /// From php-rdkafka's `RD_KAFKA_MSG_PARTITIONER_*` constants (2..=6).
    pub fn from_php_constant(c: i64) -> Option<Self> {
        Some(match c {
            2 => Self::Random,
            3 => Self::Consistent,
            4 => Self::ConsistentRandom,
            5 => Self::Murmur2,
            6 => Self::Murmur2Random,
            _ => return None,
        })
    }

    /// The partition decided by the key, or `None` when this partitioner wants a random
    /// (sticky) partition for this key. `partition_cnt` must be positive.
    pub fn key_partition(self, key: Option<&[u8]>, partition_cnt: i32) -> Option<i32> {
        if partition_cnt <= 0 {
            return None;
        }
        let n = partition_cnt as u32;
        let k = key.unwrap_or(&[]);
        let p = match self {
            Self::Random => return None,
            Self::Consistent => crc32fast::hash(k) % n,
            Self::ConsistentRandom => {
                if k.is_empty() {
                    return None;
                }
                crc32fast::hash(k) % n
            }
            Self::Murmur2 => (murmur2(k) & 0x7fff_ffff) as u32 % n,
            Self::Murmur2Random => {
                key?;
                (murmur2(k) & 0x7fff_ffff) as u32 % n
            }
            Self::Fnv1a => fnv1a_partition(k, partition_cnt) as u32,
            Self::Fnv1aRandom => {
                key?;
                fnv1a_partition(k, partition_cnt) as u32
            }
        };
        Some(p as i32)
    }

    /// The partition for a key, drawing a random one when the partitioner calls for it.
    pub fn partition(self, key: Option<&[u8]>, partition_cnt: i32) -> i32 {
        self.key_partition(key, partition_cnt)
            .unwrap_or_else(|| random_partition(partition_cnt))
    }
}

/// A uniformly random partition in `0..partition_cnt` (0 if the count is not positive).
pub fn random_partition(partition_cnt: i32) -> i32 {
    if partition_cnt <= 1 {
        0
    } else {
        rand::thread_rng().gen_range(0..partition_cnt)
    }
}

/// Java Kafka's `Utils.murmur2` (seed 0x9747b28c), as librdkafka's `rd_murmur2`.
pub fn murmur2(data: &[u8]) -> i32 {
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let len = data.len();
    let mut h: u32 = 0x9747_b28c_u32 ^ (len as u32);
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let rest = chunks.remainder();
    if rest.len() >= 3 {
        h ^= u32::from(rest[2]) << 16;
    }
    if rest.len() >= 2 {
        h ^= u32::from(rest[1]) << 8;
    }
    if !rest.is_empty() {
        h ^= u32::from(rest[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// librdkafka's (Sarama-compatible) FNV-1a placement: signed remainder, then absolute value.
fn fnv1a_partition(k: &[u8], n: i32) -> i32 {
    ((fnv1a(k) as i32) % n).abs()
}

/// 32-bit FNV-1a, as librdkafka's `rd_fnv1a`.
pub fn fnv1a(data: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &b in data {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_murmur2_vectors() {
        // org.apache.kafka.common.utils.UtilsTest#testMurmur2
        let cases: &[(&[u8], i32)] = &[
            (b"21", -973932308),
            (b"foobar", -790332482),
            (b"a-little-bit-long-string", -985981536),
            (b"a-little-bit-longer-string", -1486304829),
            (
                b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                -58897971,
            ),
            (b"abc", 479470107),
        ];
        for (k, want) in cases {
            assert_eq!(murmur2(k), *want, "{}", String::from_utf8_lossy(k));
        }
    }

    #[test]
    fn fnv1a_vectors() {
        assert_eq!(fnv1a(b""), 0x811c9dc5);
        assert_eq!(fnv1a(b"a"), 0xe40c292c);
        assert_eq!(fnv1a(b"foobar"), 0xbf9cf968);
    }

    #[test]
    fn crc32_matches_zlib() {
        assert_eq!(crc32fast::hash(b"123456789"), 0xCBF43926);
    }

    #[test]
    fn consistent_random_semantics() {
        let p = Partitioner::ConsistentRandom;
        assert_eq!(
            p.key_partition(Some(b"123456789"), 7),
            Some((0xCBF43926u32 % 7) as i32)
        );
        assert_eq!(p.key_partition(None, 7), None);
        assert_eq!(p.key_partition(Some(b""), 7), None);
        for _ in 0..100 {
            assert!((0..3).contains(&p.partition(None, 3)));
        }
    }

    #[test]
    fn null_key_behaviour_per_partitioner() {
        assert_eq!(Partitioner::Consistent.key_partition(None, 5), Some(0));
        assert!(Partitioner::Murmur2.key_partition(None, 5).is_some());
        assert_eq!(Partitioner::Murmur2Random.key_partition(None, 5), None);
        assert!(Partitioner::Murmur2Random
            .key_partition(Some(b""), 5)
            .is_some());
        assert_eq!(
            Partitioner::Fnv1a.key_partition(None, 5),
            Some(((0x811c9dc5u32 as i32) % 5).abs())
        );
        assert_eq!(Partitioner::Fnv1aRandom.key_partition(None, 5), None);
        assert_eq!(Partitioner::Random.key_partition(Some(b"k"), 5), None);
    }

    #[test]
    fn murmur2_java_partition() {
        // Java DefaultPartitioner: toPositive(murmur2(key)) % n.
        let k = b"foobar";
        let want = ((-790332482i32) & 0x7fffffff) % 10;
        assert_eq!(Partitioner::Murmur2.key_partition(Some(k), 10), Some(want));
    }

    #[test]
    fn names_round_trip() {
        for n in [
            "random",
            "consistent",
            "consistent_random",
            "murmur2",
            "murmur2_random",
            "fnv1a",
            "fnv1a_random",
        ] {
            assert_eq!(Partitioner::from_name(n).unwrap().name(), n);
        }
        assert_eq!(
            Partitioner::from_php_constant(4),
            Some(Partitioner::ConsistentRandom)
        );
        assert_eq!(Partitioner::from_php_constant(7), None);
        assert_eq!(
            Partitioner::ConsistentRandom.key_partition(Some(b"x"), 0),
            None
        );
    }
}
