using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DeployFunctions.Tests.Support;

/// <summary>
/// GitHub's published OpenAPI descriptions (npm <c>@octokit/openapi</c>, <c>@octokit/openapi-webhooks</c>) and a checker
/// for the parts of a schema that decide whether a client can read an answer: <c>$ref</c>, <c>type</c> (with
/// <c>nullable</c> or type lists), <c>required</c>, <c>properties</c>, <c>items</c>, <c>enum</c>, <c>allOf</c>,
/// <c>anyOf</c> / <c>oneOf</c> (one branch must fit) and <c>date-time</c>. Extra properties are allowed, as GitHub adds
/// fields over time.
/// </summary>
internal sealed class OpenApiDescription
{
    private static readonly Lazy<OpenApiDescription> RestDescription =
        new(() => Load("@octokit", "openapi", "generated", "api.github.com.json"));

    private static readonly Lazy<OpenApiDescription> WebhookDescription =
        new(() => Load("@octokit", "openapi-webhooks", "generated", "api.github.com.json"));

    private readonly JsonNode root;

    private OpenApiDescription(JsonNode root) => this.root = root;

    public static OpenApiDescription Rest => RestDescription.Value;

    public static OpenApiDescription Webhooks => WebhookDescription.Value;

    /// <summary>The JSON schema of an answer, e.g. <c>("post", "/repos/{owner}/{repo}/deployments", 201)</c>.</summary>
    public JsonNode Response(string method, string path, int status) =>
        (root["paths"]?[path]?[method]?["responses"]?[status.ToString(CultureInfo.InvariantCulture)] is { } response
            ? Resolve(response)["content"]?["application/json"]?["schema"]
            : null)
        ?? throw new InvalidOperationException($"GitHub's description has no JSON {status} answer for {method.ToUpperInvariant()} {path}.");

    /// <summary>True when GitHub's description lists <paramref name="status"/> (with or without a body) for the operation.</summary>
    public bool Answers(string method, string path, int status) =>
        root["paths"]?[path]?[method]?["responses"]?[status.ToString(CultureInfo.InvariantCulture)] is not null;

    /// <summary>The payload schema of a webhook, e.g. <c>deployment-created</c>.</summary>
    public JsonNode Webhook(string name) =>
        root["webhooks"]?[name]?["post"]?["requestBody"]?["content"]?["application/json"]?["schema"]
        ?? throw new InvalidOperationException($"GitHub's webhook description has no '{name}'.");

    /// <summary>Every way <paramref name="value"/> does not fit <paramref name="schema"/>; empty when it fits.</summary>
    public List<string> Check(JsonNode? value, JsonNode schema)
    {
        var errors = new List<string>();
        Check(value, schema, "$", errors);
        return errors;
    }

    private static OpenApiDescription Load(params string[] path)
    {
        var file = RepositoryRoot.Combine(["node_modules", .. path]);
        if (!File.Exists(file))
        {
            throw new InvalidOperationException($"{file} is missing: run 'npm ci' at the repository root.");
        }

        using var stream = File.OpenRead(file);
        return new OpenApiDescription(JsonNode.Parse(stream, documentOptions: new JsonDocumentOptions { MaxDepth = 256 })!);
    }

    private JsonNode Resolve(JsonNode schema)
    {
        while (schema["$ref"] is JsonValue reference)
        {
            var target = root;
            foreach (var part in ((string)reference!).TrimStart('#', '/').Split('/'))
            {
                target = target[part.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)]
                         ?? throw new InvalidOperationException($"Unresolvable $ref {reference}");
            }

            schema = target;
        }

        return schema;
    }

    private void Check(JsonNode? value, JsonNode rawSchema, string at, List<string> errors)
    {
        var schema = Resolve(rawSchema);
        foreach (var part in schema["allOf"]?.AsArray() ?? [])
        {
            Check(value, part!, at, errors);
        }

        var branches = (schema["anyOf"] ?? schema["oneOf"])?.AsArray();
        if (branches is not null)
        {
            var attempts = branches.Select(branch => this.Check(value, branch!)).ToList();
            if (attempts.All(attempt => attempt.Count > 0))
            {
                errors.Add($"{at}: fits none of the {attempts.Count} alternatives (first: {attempts[0].FirstOrDefault()})");
            }
        }

        var types = schema["type"] switch
        {
            JsonArray list => list.Select(t => (string)t!).ToList(),
            JsonValue one => [(string)one!],
            _ => [],
        };
        if (value is null)
        {
            if (types.Count > 0 && !types.Contains("null") && schema["nullable"]?.GetValue<bool>() != true)
            {
                errors.Add($"{at}: is null, schema allows {string.Join("|", types)}");
            }

            return;
        }

        if (types.Count > 0 && !types.Any(type => Is(value, type)))
        {
            errors.Add($"{at}: is {value.GetValueKind()}, schema wants {string.Join("|", types)}");
            return;
        }

        if (schema["enum"] is JsonArray allowed && value is JsonValue &&
            !allowed.Any(option => option is not null && JsonNode.DeepEquals(option, value)))
        {
            errors.Add($"{at}: {value.ToJsonString()} is not one of {allowed.ToJsonString()}");
        }

        if ((string?)schema["format"] == "date-time" && value is JsonValue text && text.TryGetValue<string>(out var time) &&
            !DateTimeOffset.TryParse(time, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out _))
        {
            errors.Add($"{at}: '{time}' is not a date-time");
        }

        if (value is JsonObject obj)
        {
            foreach (var name in schema["required"]?.AsArray().Select(r => (string)r!) ?? [])
            {
                if (!obj.ContainsKey(name))
                {
                    errors.Add($"{at}: lacks required '{name}'");
                }
            }

            foreach (var (name, property) in schema["properties"]?.AsObject() ?? [])
            {
                if (obj.TryGetPropertyValue(name, out var child))
                {
                    Check(child, property!, $"{at}.{name}", errors);
                }
            }
        }

        if (value is JsonArray array && schema["items"] is { } items)
        {
            for (var i = 0; i < array.Count; i++)
            {
                Check(array[i], items, $"{at}[{i}]", errors);
            }
        }
    }

    private static bool Is(JsonNode value, string type) => (type, value.GetValueKind()) switch
    {
        ("object", JsonValueKind.Object) => true,
        ("array", JsonValueKind.Array) => true,
        ("string", JsonValueKind.String) => true,
        ("boolean", JsonValueKind.True or JsonValueKind.False) => true,
        ("number", JsonValueKind.Number) => true,
        ("integer", JsonValueKind.Number) => value.AsValue().TryGetValue<long>(out _),
        _ => false,
    };
}
