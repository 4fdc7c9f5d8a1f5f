//! Layer 1: the typed Odoo client.
