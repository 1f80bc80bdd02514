/* pareto.c -- see pareto.h. Sorted by x, then y, a point is on the front when it has the least y
 * among the points of its x and that y is below every y of a smaller x. */
#include "report/pareto.h"

#include <math.h>
#include <stdlib.h>

#include "common/rf_error.h"

typedef struct {
    double x, y;
    int index;
} point;

static int by_x_then_y(const void *a, const void *b) {
    const point *p = a, *q = b;
    if (p->x != q->x) return p->x < q->x ? -1 : 1;
    if (p->y != q->y) return p->y < q->y ? -1 : 1;
    return p->index - q->index;
}

void rf_pareto_front(const double *x, const double *y, int n, unsigned char *on_front) {
    point *p = rf_calloc((size_t)(n > 0 ? n : 1), sizeof *p);
    int m = 0;
    for (int i = 0; i < n; i++) {
        on_front[i] = 0;
        if (!isnan(x[i]) && !isnan(y[i])) p[m++] = (point){x[i], y[i], i};
    }
    qsort(p, (size_t)m, sizeof *p, by_x_then_y);
    double best_y = 0; /* the least y of every smaller x, once i > 0 */
    for (int i = 0; i < m;) {
        int end = i; /* p[i, end): one x; p[i] has its least y */
        while (end < m && p[end].x == p[i].x) end++;
        if (i == 0 || p[i].y < best_y) {
            for (int j = i; j < end && p[j].y == p[i].y; j++) on_front[p[j].index] = 1;
            best_y = p[i].y;
        }
        i = end;
    }
    free(p);
}
