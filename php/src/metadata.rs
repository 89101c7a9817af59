//! `RdKafka\Metadata` and `RdKafka\Metadata\{Broker,Topic,Partition,Collection}`:
//! read-only snapshots of a metadata response, built by the clients'
//! `getMetadata()` from the core's metadata.

use ext_php_rs::convert::IntoZval;
use ext_php_rs::prelude::*;
use ext_php_rs::types::Zval;
use ext_php_rs::zend::ce;

/// Plain data of one metadata response (filled from the core).
#[derive(Clone, Debug, Default)]
pub struct MetadataData {
    pub orig_broker_id: i32,
    pub orig_broker_name: String,
    pub brokers: Vec<BrokerData>,
    pub topics: Vec<TopicData>,
}

#[derive(Clone, Debug, Default)]
pub struct BrokerData {
    pub id: i32,
    pub host: String,
    pub port: i32,
}

#[derive(Clone, Debug, Default)]
pub struct TopicData {
    pub name: String,
    pub err: i32,
    pub partitions: Vec<PartitionData>,
}

#[derive(Clone, Debug, Default)]
pub struct PartitionData {
    pub id: i32,
    pub err: i32,
    pub leader: i32,
    pub replicas: Vec<i32>,
    pub isrs: Vec<i32>,
}

#[php_class]
#[php(name = "RdKafka\\Metadata")]
pub struct Metadata {
    data: MetadataData,
}

impl Metadata {
    pub fn new(data: MetadataData) -> Self {
        Metadata { data }
    }
}

#[php_impl]
impl Metadata {
    #[php(vis = "private")]
    pub fn __construct() -> Self {
        Metadata::new(MetadataData::default())
    }

    pub fn get_orig_broker_id(&self) -> i64 {
        i64::from(self.data.orig_broker_id)
    }

    pub fn get_orig_broker_name(&self) -> String {
        self.data.orig_broker_name.clone()
    }

    pub fn get_brokers(&self) -> PhpResult<Collection> {
        Collection::of(self.data.brokers.iter().map(|b| Broker { data: b.clone() }))
    }

    pub fn get_topics(&self) -> PhpResult<Collection> {
        Collection::of(self.data.topics.iter().map(|t| Topic { data: t.clone() }))
    }
}

#[php_class]
#[php(name = "RdKafka\\Metadata\\Broker")]
pub struct Broker {
    data: BrokerData,
}

#[php_impl]
impl Broker {
    #[php(vis = "private")]
    pub fn __construct() -> Self {
        Broker {
            data: BrokerData::default(),
        }
    }

    pub fn get_id(&self) -> i64 {
        i64::from(self.data.id)
    }

    pub fn get_host(&self) -> String {
        self.data.host.clone()
    }

    pub fn get_port(&self) -> i64 {
        i64::from(self.data.port)
    }
}

#[php_class]
#[php(name = "RdKafka\\Metadata\\Topic")]
pub struct Topic {
    data: TopicData,
}

#[php_impl]
impl Topic {
    #[php(vis = "private")]
    pub fn __construct() -> Self {
        Topic {
            data: TopicData::default(),
        }
    }

    pub fn get_topic(&self) -> String {
        self.data.name.clone()
    }

    pub fn get_err(&self) -> i64 {
        i64::from(self.data.err)
    }

    pub fn get_partitions(&self) -> PhpResult<Collection> {
        Collection::of(
            self.data
                .partitions
                .iter()
                .map(|p| Partition { data: p.clone() }),
        )
    }
}

#[php_class]
#[php(name = "RdKafka\\Metadata\\Partition")]
pub struct Partition {
    data: PartitionData,
}

#[php_impl]
impl Partition {
    #[php(vis = "private")]
    pub fn __construct() -> Self {
        Partition {
            data: PartitionData::default(),
        }
    }

    pub fn get_id(&self) -> i64 {
        i64::from(self.data.id)
    }

    pub fn get_err(&self) -> i64 {
        i64::from(self.data.err)
    }

    pub fn get_leader(&self) -> i64 {
        i64::from(self.data.leader)
    }

    pub fn get_replicas(&self) -> PhpResult<Collection> {
        Collection::of(self.data.replicas.iter().map(|r| i64::from(*r)))
    }

    pub fn get_isrs(&self) -> PhpResult<Collection> {
        Collection::of(self.data.isrs.iter().map(|r| i64::from(*r)))
    }
}

/// `Countable` + `Iterator` over metadata items (objects or broker ids).
#[php_class]
#[php(name = "RdKafka\\Metadata\\Collection")]
#[php(implements(ce = ce::countable, stub = "\\Countable"))]
#[php(implements(ce = ce::iterator, stub = "\\Iterator"))]
pub struct Collection {
    items: Vec<Zval>,
    position: usize,
}

impl Collection {
    fn of<T: IntoZval>(items: impl Iterator<Item = T>) -> PhpResult<Self> {
        let items = items
            .map(|item| item.into_zval(false))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Collection { items, position: 0 })
    }
}

#[php_impl]
impl Collection {
    #[php(vis = "private")]
    pub fn __construct() -> Self {
        Collection {
            items: Vec::new(),
            position: 0,
        }
    }

    pub fn count(&self) -> i64 {
        self.items.len() as i64
    }

    pub fn current(&self) -> Zval {
        self.items
            .get(self.position)
            .map(Zval::shallow_clone)
            .unwrap_or_else(Zval::null)
    }

    pub fn key(&self) -> i64 {
        self.position as i64
    }

    pub fn next(&mut self) {
        self.position += 1;
    }

    pub fn rewind(&mut self) {
        self.position = 0;
    }

    pub fn valid(&self) -> bool {
        self.position < self.items.len()
    }
}
