package org.m3ae.train;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.nd4j.linalg.api.environment.Nd4jEnvironment;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Refuses, at start, a GPU that the {@code cuda} build cannot run, instead of failing later inside a kernel.
 *
 * <p>ND4J 1.0.0-M2.1's CUDA 11.6 backend ({@code libnd4jcuda.so} in {@code nd4j-cuda-11.6-1.0.0-M2.1-linux-x86_64.jar})
 * carries machine code for sm_37 … sm_86 and no PTX, and its cuDNN 8.3 / cuBLAS 11.6 stop at Ampere as well. A cubin
 * runs on devices of its own major version with an equal or higher minor, so the build runs on compute capability
 * 3.7 … 8.9 (K80 … A100, A10, L4, L40S, RTX 30/40) and on nothing of 9.0 or later (H100, H200, B200, RTX 50): without
 * PTX the driver has nothing to compile for them. No CUDA-12 ND4J is on Maven Central. docs/performance.md, "GPU".
 */
public final class CudaSupport {
  private CudaSupport() {}

  /** Why this build cannot use a device of compute capability {@code major.minor}, or empty if it can. */
  public static Optional<String> unsupported(int device, String name, int major, int minor) {
    boolean tooNew = major >= 9;
    boolean tooOld = major < 3 || (major == 3 && minor < 7);
    if (!tooNew && !tooOld) return Optional.empty();
    return Optional.of(String.format(
        "CUDA device %d (%s) has compute capability %d.%d, which the cuda build cannot run: ND4J 1.0.0-M2.1's CUDA 11.6 "
            + "backend carries kernels for sm_37 … sm_86 only and no PTX (it runs on compute capability 3.7 … 8.9: "
            + "K80 … A100, A10, L4, L40S, RTX 30/40; not on H100, H200, B200). No CUDA-12 ND4J exists on Maven Central. "
            + "Use the default CPU build (mvn -B package), or a GPU of compute capability 8.9 or lower.",
        device, name, major, minor));
  }

  /** On the CUDA backend, throws {@link IllegalStateException} naming the first device the build cannot run. */
  public static void check() {
    Properties env = Nd4j.getExecutioner().getEnvironmentInformation();
    if (!"CUDA".equals(String.valueOf(env.get(Nd4jEnvironment.BACKEND_KEY)))) return;
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> devices = (List<Map<String, Object>>) env.get(Nd4jEnvironment.CUDA_DEVICE_INFORMATION_KEY);
    if (devices == null) return;
    for (int i = 0; i < devices.size(); i++) {
      Map<String, Object> d = devices.get(i);
      Optional<String> why = unsupported(i, String.valueOf(d.get(Nd4jEnvironment.CUDA_DEVICE_NAME_KEY)),
          ((Number) d.get(Nd4jEnvironment.CUDA_DEVICE_MAJOR_VERSION_KEY)).intValue(),
          ((Number) d.get(Nd4jEnvironment.CUDA_DEVICE_MINOR_VERSION_KEY)).intValue());
      if (why.isPresent()) throw new IllegalStateException(why.get());
    }
  }
}
