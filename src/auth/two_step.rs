//! Two-step sign-in (TOTP, RFC 6238) and recovery codes.
