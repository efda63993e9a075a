// Hosts the doctor checks without being told, as data.

/**
 * The Ollama pull path when the registry cannot tell us where its blobs live: the registry and
 * the Cloudflare R2 bucket its blob requests redirect to (seen in every `ollama pull` since 2023;
 * named as the hosts to allow by Ollama's maintainers in ollama/ollama#4307).
 */
export const PULL_FALLBACK_HOSTS = ['registry.ollama.ai:443', 'dd20bb891979d25aebc8bec07b2b3bbc.r2.cloudflarestorage.com:443'];

/**
 * `doctor --ai`: the API hosts of the common hosted models, and where model files come from.
 * Each is the documented base URL of that provider's API (or download CDN).
 */
export const AI_HOSTS: { host: string; what: string }[] = [
  { host: 'api.openai.com', what: 'OpenAI API (platform.openai.com/docs/api-reference)' },
  { host: 'api.anthropic.com', what: 'Anthropic API (docs.anthropic.com/en/api)' },
  { host: 'generativelanguage.googleapis.com', what: 'Google Gemini API (ai.google.dev/api)' },
  { host: 'api.mistral.ai', what: 'Mistral API (docs.mistral.ai/api)' },
  { host: 'huggingface.co', what: 'Hugging Face Hub (models, the hf:// and hf.co/ model names Ollama pulls)' },
  { host: 'cdn-lfs.hf.co', what: 'Hugging Face LFS file CDN (model weights redirect here)' },
  { host: 'cas-bridge.xethub.hf.co', what: 'Hugging Face Xet storage (newer repositories redirect weights here)' },
];
