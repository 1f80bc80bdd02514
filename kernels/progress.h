/* progress.h -- how a long kernel (rf_aqlm_quantize, rf_gen_train) tells its caller how far it got,
 * and learns that it must stop. Kernels of every kind share it; it knows nothing of them.
 *
 * A kernel calls the callback at its natural boundaries (an Adam step, an in-group of a beam
 * pass, a k-means iteration, a generator step) and always from the thread that called the kernel,
 * never from an OpenMP worker: the driver may make MPI calls inside it. The callback should return
 * quickly (it is called often); returning nonzero asks the kernel to stop, which it does at its
 * next boundary where nothing is half-done: it frees what it allocated and returns RF_CANCELLED.
 */
#ifndef RF_KERNEL_PROGRESS_H
#define RF_KERNEL_PROGRESS_H

typedef struct {
    double fraction; /* of the kernel's predicted work (its cost model) done, in [0, 1], rising */
    int epoch;       /* >= 0 when loss is set: the objective after that many epochs (0: after the
                        initialization); -1 otherwise */
    double loss;
} rf_progress_point;

/* May be NULL wherever a kernel takes one. */
typedef int (*rf_progress_fn)(void *ctx, const rf_progress_point *at);

/* A kernel's result when its progress callback asked it to stop. */
#define RF_CANCELLED 1

/* Reports fraction (no loss) to fn when there is one; returns fn's answer (0: go on). */
static inline int rf_progress_at(rf_progress_fn fn, void *ctx, double fraction) {
    const rf_progress_point at = {.fraction = fraction, .epoch = -1, .loss = 0};
    return fn ? fn(ctx, &at) : 0;
}

#endif
