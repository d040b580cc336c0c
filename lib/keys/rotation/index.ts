export { rotationOverview, type RotationOverview, type RotationView } from "./overview";
export { retireKmsKey, type RetireResult } from "./retire";
export { rollBackRotation } from "./roll-back";
export { ROTATION_STATES, type RotationState } from "./shared";
export { resumeRotation, startRotation, type StartOptions } from "./start";
export { resumeRunningRotations, runRotation, type RunOptions, type RunOutcome } from "./worker";
