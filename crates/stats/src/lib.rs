//! Plain statistics for evalgap, knowing nothing of LLMs.
//!
//! - [`interval`]: [`Interval`] and the Wilson score interval for a proportion.
//! - [`rate`]: the unbiased ASR@k estimator `1 - C(n-c, k)/C(n, k)` per case.
//! - [`descriptive`]: mean, sample standard deviation, type-7 quantiles.
//! - [`bootstrap`](mod@bootstrap): seeded (ChaCha8) percentile bootstrap over units,
//!   of a mean, of a paired difference, or of any statistic.
//! - [`agreement`]: Cohen's kappa, Fleiss' kappa, Krippendorff's alpha (nominal).
//! - [`correlation`]: Pearson and Spearman with two-sided t p-values.
//! - [`special`]: log-gamma, regularized incomplete beta and gamma, the normal
//!   CDF and quantile, Student's t CDF, all written here.
//!
//! Every function is checked in its module's tests against a textbook or
//! independently computed value, with the source cited beside it. Functions
//! that can be undefined on their input return `Option` (or NaN for the
//! scalar special functions) rather than panicking; the few that panic
//! (confidence outside (0, 1), more successes than trials) document it.

pub mod agreement;
pub mod bootstrap;
pub mod correlation;
pub mod descriptive;
pub mod interval;
pub mod rate;
pub mod special;

pub use agreement::{cohen_kappa, fleiss_kappa, krippendorff_alpha_nominal};
pub use bootstrap::{
    bootstrap, bootstrap_column_means, bootstrap_distinct_row_means, bootstrap_distribution, bootstrap_mean,
    paired_bootstrap_diff, percentile_interval,
};
pub use correlation::{average_ranks, correlation_p_value, pearson, spearman, Correlation};
pub use descriptive::{mean, quantile, quantile_sorted, std_dev, variance};
pub use interval::{wilson, z_for_confidence, Interval};
pub use rate::{asr_at_k, asr_curve};
pub use special::{
    ln_beta, ln_gamma, normal_cdf, normal_quantile, normal_sf, regularized_gamma_p, regularized_gamma_q,
    regularized_incomplete_beta, student_t_cdf, student_t_two_sided_p,
};
