/* pareto.h -- the Pareto front of n points (x, y) where lower is better on both axes (bits per
 * weight and error): a point is on the front when no other point is at least as good on both and
 * better on one. Equal points on the front are all on it. A point with a NAN coordinate is left
 * out: never on the front, never dominating. O(n log n). */
#ifndef RF_PARETO_H
#define RF_PARETO_H

/* on_front[i] = 1 when point i is on the front, else 0. */
void rf_pareto_front(const double *x, const double *y, int n, unsigned char *on_front);

#endif
