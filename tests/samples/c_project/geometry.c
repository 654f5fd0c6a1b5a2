#include <math.h>

#include "geometry.h"

double distance(struct point a, struct point b) {
    double dx = a.x - b.x;
    double dy = a.y - b.y;
    return sqrt(dx * dx + dy * dy);
}

double perimeter(const struct point *points, int count) {
    double total = 0.0;
    for (int i = 0; i < count; i++) {
        total += distance(points[i], points[(i + 1) % count]);
    }
    return total;
}
