package org.m3ae.train;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The compute capabilities the CUDA 11.6 build of ND4J 1.0.0-M2.1 can and cannot run (sm_37 … sm_86 cubins, no PTX). */
class CudaSupportTest {
  @Test
  void hopperAndBlackwellAreRefusedWithTheReason() {
    String h200 = CudaSupport.unsupported(0, "NVIDIA H200", 9, 0).orElseThrow();
    assertTrue(h200.contains("NVIDIA H200") && h200.contains("9.0") && h200.contains("sm_86") && h200.contains("no PTX"), h200);
    assertTrue(CudaSupport.unsupported(1, "NVIDIA B200", 10, 0).isPresent());
    assertTrue(CudaSupport.unsupported(0, "RTX 5090", 12, 0).isPresent());
  }

  @Test
  void keplerBeforeK80IsRefused() {
    assertTrue(CudaSupport.unsupported(0, "Tesla K40", 3, 5).isPresent());
    assertTrue(CudaSupport.unsupported(0, "Tesla K80", 3, 7).isEmpty());
  }

  @Test
  void ampereAndAdaAreAccepted() {
    assertEquals(java.util.Optional.empty(), CudaSupport.unsupported(0, "A100", 8, 0));
    assertTrue(CudaSupport.unsupported(0, "RTX 3090", 8, 6).isEmpty());
    assertTrue(CudaSupport.unsupported(0, "L40S", 8, 9).isEmpty()); // sm_86 cubins run on 8.9
    assertTrue(CudaSupport.unsupported(0, "V100", 7, 0).isEmpty());
  }

  @Test
  void theCpuBackendPassesTheCheck() {
    assertDoesNotThrow(CudaSupport::check);
  }
}
