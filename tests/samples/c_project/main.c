#include <stdio.h>

#include "geometry.h"

int main(void) {
    struct point corner = {0.0, 0.0};
    struct point square[4] = {corner, {1.0, 0.0}, {1.0, 1.0}, {0.0, 1.0}};
    double total = perimeter(square, 4);
    printf("%.2f\n", total);
    plugin_report(total); /* declared nowhere: no server can resolve it */
    return 0;
}
