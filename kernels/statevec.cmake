# The state-vector simulator (kernels/statevec.h): one precision-free file and one instantiation
# of the template per precision. Included from kernels/CMakeLists.txt.
add_library(rf_statevec STATIC statevec.c statevec_c64.c statevec_c128.c)
target_include_directories(rf_statevec PUBLIC ${CBLAS_INCLUDE_DIR})
target_link_libraries(rf_statevec PUBLIC rf_common ${OPENBLAS_LIBRARY} OpenMP::OpenMP_C m)
