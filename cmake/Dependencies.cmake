# Dependency discovery: LibTorch from the project venv's torch wheel, yaml-cpp,
# nlohmann/json (Debian), and the optional CUDA toolkit for our own kernels.

set(LLMC_PYTHON "${PROJECT_SOURCE_DIR}/.venv/bin/python" CACHE FILEPATH
    "Python of the venv holding the torch wheel (scripts/setup.sh creates it)")
if(NOT EXISTS "${LLMC_PYTHON}")
  message(FATAL_ERROR "llmc: ${LLMC_PYTHON} not found. Run scripts/setup.sh first "
                      "(or pass -DLLMC_PYTHON=/path/to/python with torch installed).")
endif()

if(NOT Torch_DIR)
  execute_process(
    COMMAND "${LLMC_PYTHON}" -c "import torch.utils; print(torch.utils.cmake_prefix_path)"
    OUTPUT_VARIABLE _llmc_torch_prefix OUTPUT_STRIP_TRAILING_WHITESPACE
    RESULT_VARIABLE _llmc_torch_rc)
  if(NOT _llmc_torch_rc EQUAL 0)
    message(FATAL_ERROR "llmc: `${LLMC_PYTHON} -c 'import torch'` failed; run scripts/setup.sh")
  endif()
  list(PREPEND CMAKE_PREFIX_PATH "${_llmc_torch_prefix}")
endif()

# The wheel is a CUDA build: its CMake config needs a CUDA toolkit (nvcc) even for CPU-only use.
# Naming the architectures skips its GPU-detection try_run, which fails on GPU-less machines.
if(NOT DEFINED TORCH_CUDA_ARCH_LIST AND NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST})
  set(TORCH_CUDA_ARCH_LIST "8.0;9.0")
endif()
find_package(Torch REQUIRED)
include(llmcOpenMP)
find_package(OpenMP REQUIRED COMPONENTS CXX)
find_package(yaml-cpp REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)

# Our own CUDA kernels: AUTO compiles them when the toolkit torch found is usable.
set(LLMC_WITH_CUDA "AUTO" CACHE STRING "Compile llmc's CUDA kernels (AUTO, ON, OFF)")
set_property(CACHE LLMC_WITH_CUDA PROPERTY STRINGS AUTO ON OFF)
set(LLMC_CUDA_ENABLED OFF)
if(NOT LLMC_WITH_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    enable_language(CUDA)
    find_package(CUDAToolkit)
    set(LLMC_CUDA_ENABLED ON)
  elseif(LLMC_WITH_CUDA STREQUAL "ON")
    message(FATAL_ERROR "llmc: LLMC_WITH_CUDA=ON but no CUDA compiler was found")
  endif()
endif()
message(STATUS "llmc: CUDA kernels ${LLMC_CUDA_ENABLED} (LLMC_WITH_CUDA=${LLMC_WITH_CUDA})")

# Gloo's headers, which ProcessGroupGloo.hpp includes but the torch wheel does not ship: Debian's
# libgloo-dev provides the declarations; the gloo code itself is the copy inside libtorch_cpu
# (src/dist/gloo_backend.cpp explains why that is sound).
find_path(LLMC_GLOO_INCLUDE_DIR gloo/rendezvous/store.h)
if(NOT LLMC_GLOO_INCLUDE_DIR)
  message(FATAL_ERROR "llmc: gloo headers not found (apt-get install libgloo-dev; "
                      "scripts/setup.sh does), needed for distributed calibration on CPU")
endif()

# NCCL for distributed calibration on CUDA: the wheel's own nccl.h (the NCCL libtorch_cuda links)
# plus the CUDA toolkit's headers, which ProcessGroupNCCL.hpp pulls in.
set(LLMC_NCCL_ENABLED OFF)
if(LLMC_CUDA_ENABLED)
  execute_process(
    COMMAND "${LLMC_PYTHON}" -c "import os, torch; print(os.path.dirname(os.path.dirname(torch.__file__)))"
    OUTPUT_VARIABLE _llmc_site_packages OUTPUT_STRIP_TRAILING_WHITESPACE)
  find_path(LLMC_NCCL_INCLUDE_DIR nccl.h
            HINTS "${_llmc_site_packages}/nvidia/nccl/include" ${CUDAToolkit_INCLUDE_DIRS})
  if(LLMC_NCCL_INCLUDE_DIR)
    set(LLMC_NCCL_ENABLED ON)
  endif()
endif()
message(STATUS "llmc: NCCL process group ${LLMC_NCCL_ENABLED}")
