/** Named float tolerances, so tests never carry magic numbers. */
/** Relative tolerance for float32 pipelines (forward passes, logits). */
export const TOL_F32_REL = 1e-4
/** Absolute tolerance for float64 kernels compared with a float64 reference (same arithmetic). */
export const TOL_F64_ABS = 1e-10
/** Absolute tolerance for float64 results compared with numpy/scipy goldens (different summation order). */
export const TOL_GOLDEN_ABS = 1e-8
/** Absolute tolerance for analytic values computed from a covariance (no sampling). */
export const TOL_ANALYTIC_ABS = 1e-11
