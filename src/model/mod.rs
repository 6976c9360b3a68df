//! The domain model: industries, companies, contacts and their vocabularies.
//! It knows nothing of HTTP or of the index.

pub mod enums;
pub mod industry;
pub mod record;

pub use enums::{CountryCode, EmailStatus, Section, Seniority, Source};
pub use industry::{Industries, Industry, IndustryFilter};
pub use record::{Company, Contact, FieldError, Timestamp};
