# OpenMP for llmc, after find_package(Torch): used by the build (Dependencies.cmake) and by the
# installed llmcConfig.cmake, so that llmc and its consumers link the same runtime.
#
# ATen's parallel_for is a header template: it runs in parallel only in code compiled with the
# backend the wheel was built with (OpenMP; ATen/Config.h AT_PARALLEL_OPENMP). Without -fopenmp
# INTRA_OP_PARALLEL is undefined and every at::parallel_for of ours runs on one thread. The
# wheel ships its own libgomp.so.1, which libtorch_cpu loads: linking that file, not the
# compiler's, keeps one OpenMP runtime per process and one libgomp directory in the rpath.
if(NOT DEFINED OpenMP_gomp_LIBRARY AND EXISTS "${TORCH_INSTALL_PREFIX}/lib/libgomp.so.1")
  set(OpenMP_gomp_LIBRARY "${TORCH_INSTALL_PREFIX}/lib/libgomp.so.1")
endif()
