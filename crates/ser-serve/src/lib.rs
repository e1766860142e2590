//! HTTP service and web page for ser.
