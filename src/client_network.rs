//! Who is asking, as far as rate limits and lockouts care: the client's network. An IPv4
//! client is its address; an IPv6 client is its /64, the smallest block a provider hands one
//! subscriber, so one host cannot walk its 2^64 addresses to dodge a per-client limit.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

/// The network a request came from: an IPv4 address, or an IPv6 /64 (the address with its
/// low 64 bits cleared). IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`, what a dual-stack
/// socket reports for IPv4 clients) count as the IPv4 address they carry.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientNetwork(IpAddr);

impl ClientNetwork {
    /// The network of a client address.
    pub fn of(ip: IpAddr) -> ClientNetwork {
        match ip.to_canonical() {
            IpAddr::V4(v4) => ClientNetwork(IpAddr::V4(v4)),
            IpAddr::V6(v6) => {
                let prefix = u128::from(v6) & !u128::from(u64::MAX);
                ClientNetwork(IpAddr::V6(Ipv6Addr::from(prefix)))
            }
        }
    }

    /// The network's address (for IPv6 the first address of the /64).
    pub fn addr(&self) -> IpAddr {
        self.0
    }
}

impl fmt::Display for ClientNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            IpAddr::V4(v4) => write!(f, "{v4}"),
            IpAddr::V6(v6) => write!(f, "{v6}/64"),
        }
    }
}

impl fmt::Debug for ClientNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientNetwork({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> ClientNetwork {
        ClientNetwork::of(s.parse().unwrap())
    }

    #[test]
    fn ipv6_clients_are_their_slash_64() {
        assert_eq!(
            net("2001:db8:1:2::1"),
            net("2001:db8:1:2:ffff:ffff:ffff:ffff")
        );
        assert_ne!(net("2001:db8:1:2::1"), net("2001:db8:1:3::1"));
        assert_eq!(net("2001:db8:1:2:abcd::9").to_string(), "2001:db8:1:2::/64");
    }

    #[test]
    fn ipv4_clients_are_their_address_however_they_arrive() {
        assert_eq!(net("198.51.100.7").to_string(), "198.51.100.7");
        assert_ne!(net("198.51.100.7"), net("198.51.100.8"));
        // A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; masking those to a /64
        // would put every IPv4 client in one bucket.
        assert_eq!(net("::ffff:198.51.100.7"), net("198.51.100.7"));
        assert_ne!(net("::ffff:198.51.100.7"), net("::ffff:198.51.100.8"));
    }
}
