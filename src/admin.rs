//! A small admin API for the command line: topics and partitions.

use crate::client::Client;
use crate::cluster::Metadata;
use crate::config::Config;
use crate::error::{ErrorCode, KafkaError, Result};
use kafka_protocol::messages::create_partitions_request::CreatePartitionsTopic;
use kafka_protocol::messages::create_topics_request::{CreatableTopic, CreatableTopicConfig};
use kafka_protocol::messages::{
    CreatePartitionsRequest, CreateTopicsRequest, DeleteTopicsRequest, TopicName,
};
use kafka_protocol::protocol::StrBytes;
use std::time::Duration;

/// Admin operations over a [`Client`].
#[derive(Debug, Clone)]
pub struct Admin {
    client: Client,
}

fn name(t: &str) -> TopicName {
    TopicName(StrBytes::from_string(t.to_string()))
}

fn check(code: i16, msg: Option<&StrBytes>) -> Result<()> {
    if code == 0 {
        return Ok(());
    }
    let c = ErrorCode::from_kafka(code);
    Err(KafkaError::with_message(
        c,
        msg.map(|m| m.to_string())
            .unwrap_or_else(|| c.description()),
    ))
}

impl Admin {
    /// An admin client.
    ///
    /// # Errors
    /// When the runtime cannot start.
    pub fn new(conf: &Config) -> Result<Admin> {
        Ok(Admin {
            client: Client::new(conf)?,
        })
    }

    /// The underlying client (metadata, watermarks).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Creates a topic; `replication_factor` -1 uses the broker default.
    ///
    /// # Errors
    /// `TOPIC_ALREADY_EXISTS`, `INVALID_PARTITIONS`, … with the broker's message.
    pub fn create_topic(
        &self,
        topic: &str,
        partitions: i32,
        replication_factor: i16,
        configs: &[(String, String)],
        timeout: Duration,
    ) -> Result<()> {
        let cluster = self.client.cluster.clone();
        let mut ct = CreatableTopic::default();
        ct.name = name(topic);
        ct.num_partitions = partitions;
        ct.replication_factor = replication_factor;
        ct.configs = configs
            .iter()
            .map(|(k, v)| {
                let mut c = CreatableTopicConfig::default();
                c.name = StrBytes::from_string(k.clone());
                c.value = Some(StrBytes::from_string(v.clone()));
                c
            })
            .collect();
        let mut req = CreateTopicsRequest::default();
        req.topics = vec![ct];
        req.timeout_ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        self.client.block_on(timeout, async move {
            let (conn, _) = cluster.any_connection().await?;
            let resp = conn.send(&req, 5).await?;
            let r = resp
                .topics
                .first()
                .ok_or_else(|| KafkaError::new(ErrorCode::BAD_MSG))?;
            check(r.error_code, r.error_message.as_ref())
        })
    }

    /// Deletes a topic.
    ///
    /// # Errors
    /// `UNKNOWN_TOPIC_OR_PART` and other broker errors.
    pub fn delete_topic(&self, topic: &str, timeout: Duration) -> Result<()> {
        let cluster = self.client.cluster.clone();
        let mut req = DeleteTopicsRequest::default();
        req.topic_names = vec![name(topic)];
        let mut st = kafka_protocol::messages::delete_topics_request::DeleteTopicState::default();
        st.name = Some(name(topic));
        req.topics = vec![st];
        req.timeout_ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        self.client.block_on(timeout, async move {
            let (conn, _) = cluster.any_connection().await?;
            let resp = conn.send(&req, 5).await?;
            let r = resp
                .responses
                .first()
                .ok_or_else(|| KafkaError::new(ErrorCode::BAD_MSG))?;
            check(r.error_code, r.error_message.as_ref())
        })
    }

    /// Grows a topic to `total` partitions.
    ///
    /// # Errors
    /// `INVALID_PARTITIONS` and other broker errors.
    pub fn create_partitions(&self, topic: &str, total: i32, timeout: Duration) -> Result<()> {
        let cluster = self.client.cluster.clone();
        let mut t = CreatePartitionsTopic::default();
        t.name = name(topic);
        t.count = total;
        let mut req = CreatePartitionsRequest::default();
        req.topics = vec![t];
        req.timeout_ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        self.client.block_on(timeout, async move {
            let (conn, _) = cluster.any_connection().await?;
            let resp = conn.send(&req, 3).await?;
            let r = resp
                .results
                .first()
                .ok_or_else(|| KafkaError::new(ErrorCode::BAD_MSG))?;
            check(r.error_code, r.error_message.as_ref())
        })
    }

    /// All topics with partitions (`topics list`).
    ///
    /// # Errors
    /// As [`Client::metadata`].
    pub fn list_topics(&self, timeout: Duration) -> Result<Metadata> {
        self.client.metadata(true, None, timeout)
    }

    /// One topic (`topics describe`); the topic's `err` tells whether it exists.
    ///
    /// # Errors
    /// As [`Client::metadata`].
    pub fn describe_topic(&self, topic: &str, timeout: Duration) -> Result<Metadata> {
        self.client.metadata(false, Some(topic), timeout)
    }
}
