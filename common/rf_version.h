/* rf_version.h -- the riverforge version, written into every shard, checkpoint and summary;
 * keep it equal to project(VERSION) in CMakeLists.txt. */
#ifndef RF_VERSION_H
#define RF_VERSION_H
#define RF_VERSION "0.1.0"
#endif
