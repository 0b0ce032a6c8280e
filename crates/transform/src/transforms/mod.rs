//! One file per transform; each exposes its `DEF` for the registry.

pub mod adaptive;
pub mod agentic;
pub mod base64;
mod encode;
pub mod hierarchy;
pub mod leet;
pub mod manyshot;
pub mod multiturn;
pub mod roleplay;
pub mod rot13;
pub mod suffix;
pub mod translate;
