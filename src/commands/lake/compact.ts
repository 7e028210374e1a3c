import Compact from '../compact.js';

/** `gpuhealth lake compact` is the same command as `gpuhealth compact`. */
export default class LakeCompact extends Compact {}
