//! The Lianxin server: HTTP API, jobs and CLI over the domain and the store.

pub mod admin;
pub mod api;
pub mod app;
pub mod auth;
pub mod bench;
pub mod body;
pub mod cli;
pub mod clock;
pub mod demo;
pub mod edge;
pub mod error;
pub mod jobs;
pub mod knowledge;
pub mod net;
pub mod openapi;
pub mod report;
pub mod search;
pub mod service;
pub mod setup;
pub mod state;
pub mod views;
pub mod web;

pub use app::{Config, Running, ServeOptions, router, spawn};
pub use clock::Clock;
