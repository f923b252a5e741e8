# Profile-guided optimisation (GCC) of the modules the extractors run in.
#
# The extractors' speed depends on how the compiler lays out their branches;
# a profile of them at work says which are taken (bench/ab_hl7.sh: +12% on
# HL7 v2 over the same -O3 build). So an optimised build with GCC first makes
# a build of its own under BUILD/pgo/build with -fprofile-generate, runs it
# over generated feeds without a database (scripts/pgo-train) to write
# BUILD/pgo/profile, and then compiles omo_core, omo_record and omo_extract
# with -fprofile-use. Both builds name a profile after the object file's path
# below their build directory (-fprofile-prefix-path), so they share it.
#
# An edit to those modules' sources (core/, etl/*.c, etl/extract/) or to
# scripts/pgo-train retrains before they are rebuilt (about 15 s: the
# instrumented build's own rebuild, then 5 s of training). -DOMOPIPE_PGO=OFF
# builds without it; Debug and sanitizer builds never use it.
option(OMOPIPE_PGO "Profile-guided optimisation of the extractors (GCC, optimised builds)" ON)

set(OMOPIPE_PGO_ACTIVE OFF)
if(OMOPIPE_PGO AND CMAKE_C_COMPILER_ID STREQUAL "GNU" AND NOT CMAKE_C_COMPILER_VERSION VERSION_LESS 11
   AND CMAKE_BUILD_TYPE MATCHES "^(RelWithDebInfo|Release)$" AND NOT OMOPIPE_SANITIZE)
  set(OMOPIPE_PGO_ACTIVE ON)
  set(pgo ${CMAKE_BINARY_DIR}/pgo)
  include(ExternalProject)
  if(CMAKE_GENERATOR MATCHES "Make")
    set(pgo_build $(MAKE)) # shares make's jobs (-j) with the build around it
  else()
    set(pgo_build ${CMAKE_COMMAND} --build <BINARY_DIR> --target)
  endif()
  ExternalProject_Add(pgo_train
    SOURCE_DIR ${CMAKE_SOURCE_DIR}
    BINARY_DIR ${pgo}/build
    PREFIX ${pgo}
    CMAKE_ARGS -DOMOPIPE_PGO=OFF -DCMAKE_BUILD_TYPE=${CMAKE_BUILD_TYPE} -DCMAKE_C_COMPILER=${CMAKE_C_COMPILER}
               "-DCMAKE_C_FLAGS=${CMAKE_C_FLAGS} -fprofile-generate -fprofile-update=single -fprofile-dir=${pgo}/profile -fprofile-prefix-path=${pgo}/build"
    BUILD_COMMAND ${pgo_build} omopipe bench_hl7 bench_ccda bench_csv hl7_gen
    INSTALL_COMMAND ${CMAKE_SOURCE_DIR}/scripts/pgo-train <BINARY_DIR> ${pgo}/profile)
  # retrained when the code it profiles changes, before that code is rebuilt
  file(GLOB pgo_src CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/core/*.[ch] ${CMAKE_SOURCE_DIR}/etl/*.[ch]
       ${CMAKE_SOURCE_DIR}/etl/extract/*.[ch] ${CMAKE_SOURCE_DIR}/scripts/pgo-train)
  ExternalProject_Add_StepDependencies(pgo_train build ${pgo_src})
  message(STATUS "omopipe: profile-guided build of the extractors (-DOMOPIPE_PGO=OFF to build without)")
endif()

# Compile targets with the profile, once it is written.
function(omo_pgo_use)
  if(OMOPIPE_PGO_ACTIVE)
    foreach(t ${ARGN})
      target_compile_options(${t} PRIVATE -fprofile-use -fprofile-dir=${CMAKE_BINARY_DIR}/pgo/profile
                             -fprofile-prefix-path=${CMAKE_BINARY_DIR} -fprofile-partial-training
                             -Wno-missing-profile -Wno-coverage-mismatch)
      add_dependencies(${t} pgo_train)
    endforeach()
  endif()
endfunction()
