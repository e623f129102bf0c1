//! The Lianxin server: HTTP API, jobs and CLI over the domain and the store.

pub mod api;
pub mod app;
pub mod auth;
pub mod bench;
pub mod body;
pub mod clock;
pub mod demo;
pub mod error;
pub mod jobs;
pub mod openapi;
pub mod service;
pub mod state;
pub mod views;
pub mod web;

pub use app::{Config, Running, router, spawn};
pub use clock::Clock;
