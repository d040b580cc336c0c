import { CopyButton } from "@/components/copy-button";
import { PageHeader } from "@/components/page-header";
import type { InstructionBlock } from "@/lib/kms/provider";

/** A provider's instructions (the customer's or the vendor's): each block's prose, and its exact text to paste or run with a copy button. */
export function InstructionBlocks({ blocks }: { blocks: readonly InstructionBlock[] }) {
  return blocks.map((block) => (
    <div key={block.id} className="space-y-2">
      <PageHeader as="h3" title={block.title} description={block.text} actions={block.code ? <CopyButton value={block.code} label="Copy" /> : undefined} />
      {block.code ? (
        <pre className={`overflow-x-auto rounded-md bg-muted p-4 text-xs ${block.language === "shell" ? "whitespace-pre-wrap break-all" : ""}`} data-testid={block.id}>
          {block.code}
        </pre>
      ) : null}
    </div>
  ));
}
