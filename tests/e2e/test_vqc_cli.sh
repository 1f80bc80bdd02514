#!/usr/bin/env bash
# `riverforge vqc simulate` end to end: inputs written by make_vqc_inputs, outputs checked by it
# independently (norms, <Z> from p, entropy bounds, known states, the state against dense layer
# matrices), c64 against c128, and the bad inputs: each exits 2 with one line naming the flag or
# the dataset.
. "$(dirname "$0")/../fixtures/lib.sh"

MAKE=$MAKE_VQC_INPUTS
N=6
L=3
"$MAKE" write "$WORK" $N $L
IN=$WORK/in.h5
ANG=$WORK/angles.h5
sim() { "$RIVERFORGE" vqc simulate --qubits $N "$@"; }

check "a random circuit (chain, c128) runs" \
    sim --layers $L --entangler chain --input "$IN:/x" --angles "$ANG:/random" --out "$WORK/chain.h5"
check "its outputs are consistent (sum p = 1, |state|^2 = p, <Z> from p, entropy bounds)" \
    "$MAKE" check "$WORK/chain.h5" basic
check "its state equals the dense product of the layer matrices (1e-12)" \
    "$MAKE" check "$WORK/chain.h5" dense "$IN" /x "$ANG" /random chain 1e-12
check "ring, c128" \
    sim --layers $L --entangler ring --input "$IN:/x" --angles "$ANG:/random" --out "$WORK/ring.h5"
check "ring: the dense product too" "$MAKE" check "$WORK/ring.h5" dense "$IN" /x "$ANG" /random ring 1e-12
check "ring, c64 (flags as --flag=value)" \
    sim --layers=$L --entangler=ring --input="$IN:/x" --angles="$ANG:/random" --precision=c64 --out="$WORK/ring64.h5"
check "c64 agrees with c128 to 1e-5" "$MAKE" check "$WORK/ring64.h5" same "$WORK/ring.h5" 1e-5
check "zero angles keep |0..0> (p_0 = 1, <Z> = 1, entropy 0)" sh -c \
    "'$RIVERFORGE' vqc simulate --qubits $N --layers $L --entangler ring --input '$IN:/one' \
     --angles '$ANG:/zero' --out '$WORK/zero.h5' && '$MAKE' check '$WORK/zero.h5' zero"
check "RY(pi/2) on qubit 0 then the chain make GHZ (entropy ln 2 at every cut)" sh -c \
    "'$RIVERFORGE' vqc simulate --qubits $N --layers 1 --entangler chain --input '$IN:/one' \
     --angles '$ANG:/ghz' --precision c64 --out '$WORK/ghz.h5' && '$MAKE' check '$WORK/ghz.h5' ghz"
check "no temporary file is left next to the outputs" test -z "$(ls "$WORK" | grep tmp || true)"

expect_error "angles of the wrong shape" "--angles .*angles.h5:/wrong: shape \[3, 6\], but --layers 3 --qubits 6 need \[3, 6, 3\]" \
    sim --layers $L --entangler chain --input "$IN:/x" --angles "$ANG:/wrong" --out "$WORK/bad.h5"
expect_error "an input longer than 2^N" "--input .*in.h5:/long: 65 values do not fit in the 2\^6 = 64 amplitudes" \
    sim --layers $L --entangler chain --input "$IN:/long" --angles "$ANG:/random" --out "$WORK/bad.h5"
expect_error "an unknown entangler" "--entangler 'star': expected chain or ring" \
    sim --layers $L --entangler star --input "$IN:/x" --angles "$ANG:/random" --out "$WORK/bad.h5"
expect_error "an all-zero input" "--input .*in.h5:/zeros: all values are zero" \
    sim --layers $L --entangler chain --input "$IN:/zeros" --angles "$ANG:/random" --out "$WORK/bad.h5"
expect_error "a missing dataset" "--input .*in.h5:/nope: /nope is missing" \
    sim --layers $L --entangler chain --input "$IN:/nope" --angles "$ANG:/random" --out "$WORK/bad.h5"
expect_error "a spec without :/dataset" "--angles '.*angles.h5': expected FILE.h5:/dataset" \
    sim --layers $L --entangler chain --input "$IN:/x" --angles "$ANG" --out "$WORK/bad.h5"
check "and none of them wrote an output" test ! -e "$WORK/bad.h5"
finish
