"""Settings the GW local search shares between its numpy engine (dilt.gw) and its batched
torch engine (dilt.gw_torch), so both stop and gate alike."""

RTOL = 1e-5  # gains below this fraction of mean(M_ii) count as none (float32 search)
ECC_GATE = 2.5  # local+ecc: also search from the eccentricity start when it is this close
