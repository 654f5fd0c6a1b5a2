#ifndef GEOMETRY_H
#define GEOMETRY_H

struct point {
    double x;
    double y;
};

double distance(struct point a, struct point b);
double perimeter(const struct point *points, int count);

#endif
