# The shared-ViT-block generators (kernels/vitgen.h): dispatch, read-out MLP + Adam, QGP and
# ParamGen, on top of the state-vector simulator. Included from kernels/CMakeLists.txt.
add_library(rf_vitgen STATIC vitgen.c gen_mlp.c qgp_readout.c qgp.c paramgen.c)
target_include_directories(rf_vitgen PUBLIC ${CBLAS_INCLUDE_DIR})
target_link_libraries(rf_vitgen PUBLIC rf_statevec rf_kernels rf_common ${OPENBLAS_LIBRARY}
                      OpenMP::OpenMP_C m)
