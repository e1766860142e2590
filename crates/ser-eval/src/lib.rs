//! Metrics, confusion matrices, plots and reports for ser.
